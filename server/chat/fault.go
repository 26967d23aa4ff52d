package chat

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

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
		return shared.Errorf(shared.CodeForbidden, "fault injection is off; start the server with -playground-faults")
	}
	name, arg, hasArg := strings.Cut(content, "=")
	n := 0
	if hasArg {
		v, err := strconv.Atoi(arg)
		if err != nil || v < 0 {
			return shared.Errorf(shared.CodeBadRequest, "fault %.40q: the parameter after = must be a whole number", name)
		}
		n = v
	}
	ack := func() {
		f := prepare(shared.Message{Type: shared.TypeFault, Content: content})
		c.Reply(f)
	}
	switch name {
	case shared.FaultLatency:
		if !hasArg || n > int(wsconn.MaxLatency/time.Millisecond) {
			return shared.Errorf(shared.CodeBadRequest, "latency=MS: give the delay in milliseconds, 0 to %d", wsconn.MaxLatency/time.Millisecond)
		}
		ack()
		c.InjectLatency(time.Duration(n) * time.Millisecond)
	case shared.FaultDrop:
		if !hasArg {
			n = 1
		}
		if n < 1 || n > wsconn.MaxDrop {
			return shared.Errorf(shared.CodeBadRequest, "drop=N: give how many of your frames to drop, 1 to %d", wsconn.MaxDrop)
		}
		ack()
		c.InjectDrop(n)
	case shared.FaultNoPong:
		if hasArg {
			return shared.Errorf(shared.CodeBadRequest, "no_pong takes no parameter")
		}
		ack()
		c.InjectNoPong()
	case shared.FaultStallReads:
		if hasArg && n < 1 {
			return shared.Errorf(shared.CodeBadRequest, "stall_reads=N: give the send queue's bound in messages, at least 1")
		}
		ack()
		c.InjectStall(n)
	case shared.FaultClose:
		if !hasArg || !shared.FaultCloseAllowed(n) {
			return shared.Errorf(shared.CodeBadRequest, "close=CODE: the code must be 1000, 1001, 1008, 1011 or 4000 to 4999")
		}
		ack()
		c.Close(n, shared.ReasonFault)
	case shared.FaultRestart:
		if hasArg {
			return shared.Errorf(shared.CodeBadRequest, "restart takes no parameter")
		}
		ack()
		c.Close(int(shared.CloseServiceRestart), shared.ReasonRestart)
	default:
		return shared.Errorf(shared.CodeBadRequest, "unknown fault %.40q: one of latency=MS, drop=N, no_pong, stall_reads, close=CODE, restart", name)
	}
	s.metrics.FaultInjected()
	c.Log().Info("fault injected", "fault", content)
	return nil
}
