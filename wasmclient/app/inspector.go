package app

import "time"

// Frame is one entry of a client's frame inspector: a frame that went
// out or came in, as it was on the wire, or what happened to the
// connection (opened, closed with a code and its meaning, failed).
type Frame struct {
	Time time.Time
	Dir  Direction
	// Kind is "text" or "binary" for frames, and for events "open",
	// "close" or "error". The page takes a JSON frame's type from its
	// "type" field.
	Kind string
	// Text is the frame's content, or the event in words.
	Text string
}

// Inspector shows one client's frames, each as it happens, on the loop:
// every frame the socket writes (the heartbeat's pings too) and every
// message it reads (the pongs too), and how each connection ended. The
// page keeps the last ones, a bounded number.
type Inspector func(Frame)

// inspect shows a frame, when there is an inspector.
func (i Inspector) inspect(dir Direction, kind, text string) {
	if i != nil {
		i(Frame{time.Now(), dir, kind, text})
	}
}

// Raw sends input as a frame, for the inspector's raw send: text as it
// is, or binary from hex or base64 (as ParsePayload reads them). A
// learner may send what the protocol refuses, to watch how the server
// answers: chat, notifications and the dashboard take no binary frame,
// and close with 1003.
func (s *socket) Raw(mode Mode, input string) error {
	typ, data, err := ParsePayload(mode, input)
	if err != nil {
		return err
	}
	return s.sendFrame(frame{typ, data})
}
