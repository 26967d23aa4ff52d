package chat

import (
	"encoding/json"

	"wsplay/server/wsconn"
	"wsplay/shared"
)

// decodeFault reads a frame that shared.Decode refused for its type: a
// fault request is not a message of the chat protocol proper, and
// clients do not know its type.
func decodeFault(data []byte) (shared.Message, bool) {
	var m shared.Message
	if json.Unmarshal(data, &m) != nil || m.Type != shared.TypeFault {
		return shared.Message{}, false
	}
	return m, true
}

// injectFault applies the fault a client asked of its own connection c
// (shared.TypeFault), after acknowledging it, or returns why it cannot.
func (s *Service) injectFault(c *wsconn.Conn, content string) *shared.Error {
	if !s.cfg.Faults {
		return wsconn.FaultsOff()
	}
	ack := func() {
		f := prepare(shared.Message{Type: shared.TypeFault, Content: content})
		c.Reply(f)
	}
	if err := c.InjectFault(content, ack); err != nil {
		return err
	}
	s.metrics.FaultInjected()
	return nil
}
