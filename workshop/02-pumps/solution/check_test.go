package solution_test

import (
	"net/http"
	"testing"
	"time"

	"wsplay/workshop/02-pumps/check"
	"wsplay/workshop/02-pumps/solution"
)

func TestChecker(t *testing.T) {
	check.Run(t, check.Subject{
		Handler: func(onOpen func(check.Sender), onMessage func(check.Sender, []byte)) http.Handler {
			return solution.Handler(
				func(c *solution.Conn) {
					if onOpen != nil {
						onOpen(c)
					}
				},
				func(c *solution.Conn, msg []byte) {
					if onMessage != nil {
						onMessage(c, msg)
					}
				})
		},
		SetTiming: func(pongWait, pingPeriod time.Duration) {
			solution.PongWait, solution.PingPeriod = pongWait, pingPeriod
		},
	})
}
