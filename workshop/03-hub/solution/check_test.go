package solution_test

import (
	"context"
	"testing"

	"wsplay/workshop/03-hub/check"
	"wsplay/workshop/03-hub/solution"
)

type hub struct{ *solution.Hub }

func (h hub) Run(ctx context.Context)        { h.Hub.Run(ctx) }
func (h hub) Register(c check.Client) bool   { return h.Hub.Register(c.(client).Client) }
func (h hub) Unregister(c check.Client) bool { return h.Hub.Unregister(c.(client).Client) }
func (h hub) Broadcast(msg []byte) bool      { return h.Hub.Broadcast(msg) }

type client struct{ *solution.Client }

func (c client) Send() <-chan []byte { return c.Client.Send }

func TestChecker(t *testing.T) {
	check.Run(t, check.Subject{
		NewHub:    func() check.Hub { return hub{solution.NewHub()} },
		NewClient: func() check.Client { return client{solution.NewClient()} },
		Joined:    solution.Joined,
	})
}
