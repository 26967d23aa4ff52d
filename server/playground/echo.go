package playground

import (
	"net/http"

	"wsplay/server/gate"
	"wsplay/shared"
)

// Echo returns the handler of GET /ws/echo, admitted by g: every message
// comes back unchanged, text as text and binary as binary, in the order
// it arrived. A client that sends without reading is held back by TCP,
// as by any echo loop: its next message is read once the answer to the
// last is written (or queued, when the connection is busy, for instance
// with a ping). It takes no name: without a token the connection is
// anonymous, unless g requires one.
func Echo(g *gate.Gate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := g.Admit(w, r, gate.Endpoint{Name: shared.EndpointEcho})
		if c == nil {
			return
		}
		c.Start(func(typ int, data []byte) error {
			// Written at once from data while the connection is idle,
			// with nothing allocated; queued as a copy otherwise.
			return c.ReplyMessage(typ, data)
		}, nil)
	})
}
