package playground

import (
	"net/http"
	"wsplay/server/gate"
	"wsplay/shared"

	"github.com/gorilla/websocket"
)

// serveEcho handles GET /ws/echo: every message comes back unchanged, text
// as text and binary as binary, in the order it arrived. It takes no name:
// without a token the connection is anonymous, unless -require-auth.
func (p *Playground) serveEcho(w http.ResponseWriter, r *http.Request) {
	c, _ := p.gate.Admit(w, r, gate.Endpoint{Name: shared.EndpointEcho})
	if c == nil {
		return
	}
	c.Run(func(typ int, data []byte) error {
		m, err := websocket.NewPreparedMessage(typ, data)
		if err != nil {
			return err // only for an invalid type, which ReadMessage never returns
		}
		c.Enqueue(m)
		return nil
	})
}
