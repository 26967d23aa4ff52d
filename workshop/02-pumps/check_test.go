//go:build workshop

// The checker runs on your code only when asked (scripts/workshop check
// 2): the starter fails it on purpose.
package pumps_test

import (
	"net/http"
	"testing"
	"time"

	pumps "wsplay/workshop/02-pumps"
	"wsplay/workshop/02-pumps/check"
)

func TestChecker(t *testing.T) {
	check.Run(t, check.Subject{
		Handler: func(onOpen func(check.Sender), onMessage func(check.Sender, []byte)) http.Handler {
			return pumps.Handler(
				func(c *pumps.Conn) {
					if onOpen != nil {
						onOpen(c)
					}
				},
				func(c *pumps.Conn, msg []byte) {
					if onMessage != nil {
						onMessage(c, msg)
					}
				})
		},
		SetTiming: func(pongWait, pingPeriod time.Duration) { pumps.PongWait, pumps.PingPeriod = pongWait, pingPeriod },
	})
}
