//go:build workshop

// The checker runs on your code only when asked (scripts/workshop check
// 3): the starter fails it on purpose.
package hub_test

import (
	"context"
	"testing"

	hub "wsplay/workshop/03-hub"
	"wsplay/workshop/03-hub/check"
)

type learnerHub struct{ *hub.Hub }

func (h learnerHub) Run(ctx context.Context)        { h.Hub.Run(ctx) }
func (h learnerHub) Register(c check.Client) bool   { return h.Hub.Register(c.(client).Client) }
func (h learnerHub) Unregister(c check.Client) bool { return h.Hub.Unregister(c.(client).Client) }
func (h learnerHub) Broadcast(msg []byte) bool      { return h.Hub.Broadcast(msg) }

type client struct{ *hub.Client }

func (c client) Send() <-chan []byte { return c.Client.Send }

func TestChecker(t *testing.T) {
	check.Run(t, check.Subject{
		NewHub:    func() check.Hub { return learnerHub{hub.NewHub()} },
		NewClient: func() check.Client { return client{hub.NewClient()} },
		Joined:    hub.Joined,
	})
}
