package wsconn

import "time"

// Config is how a connection behaves. The zero value is ready to use:
// every field has a documented default, taken when it is zero (or, for a
// duration or size, not positive).
type Config struct {
	// ReadLimit is the largest message a client may send, in bytes;
	// larger ones close the connection with 1009. Default 64 KiB.
	ReadLimit int64
	// PongWait is how long a client may stay silent (no message, no pong)
	// before the connection is dropped. Default 60 s.
	PongWait time.Duration
	// PingInterval is how often the connection pings its client. It must
	// be less than PongWait, so that a pong can arrive in time; when it is
	// not (or is zero), it is nine tenths of PongWait: 54 s by default.
	PingInterval time.Duration
	// WriteWait bounds every write to a client; a client that does not
	// take a frame within it is dropped. Default 10 s.
	WriteWait time.Duration
	// CloseGrace is how long the connection waits for the client's answer
	// to its close frame before it hangs up. Default 1 s.
	CloseGrace time.Duration
	// SendQueue is how many outgoing messages may wait for one client;
	// when its queue is full the client is too slow and is closed with
	// 1008. Default 256.
	SendQueue int
	// SendQueueBytes bounds the same queue in payload bytes: a client
	// whose queued messages would pass it is too slow, however few they
	// are. Default 1 MiB.
	SendQueueBytes int
	// BatchDelay is how long messages for a client that took
	// shared.SubprotocolBatch gather before they are written, as one
	// frame: the longer, the fewer writes a busy server makes, and the
	// later each message arrives. Clients without it are written to at
	// once. Default 200 ms: at 5,000 subscribers of a busy room it
	// halves the writes of 100 ms, and the lighter load brings the
	// delivery latency down with it (scripts/bench); a person chatting
	// notices neither, since the first message after a quiet spell goes
	// at once. A negative value writes at once.
	BatchDelay time.Duration
}

// The defaults of Config.
const (
	DefaultReadLimit      = 64 << 10
	DefaultPongWait       = 60 * time.Second
	DefaultWriteWait      = 10 * time.Second
	DefaultCloseGrace     = time.Second
	DefaultSendQueue      = 256
	DefaultSendQueueBytes = 1 << 20
	DefaultBatchDelay     = 200 * time.Millisecond
)

// WithDefaults returns c with every zero (or invalid) field set to its
// default.
func (c Config) WithDefaults() Config {
	if c.ReadLimit <= 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.PongWait <= 0 {
		c.PongWait = DefaultPongWait
	}
	if c.PingInterval <= 0 || c.PingInterval >= c.PongWait {
		c.PingInterval = c.PongWait * 9 / 10
	}
	if c.WriteWait <= 0 {
		c.WriteWait = DefaultWriteWait
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = DefaultCloseGrace
	}
	if c.SendQueue <= 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.SendQueueBytes <= 0 {
		c.SendQueueBytes = DefaultSendQueueBytes
	}
	if c.BatchDelay == 0 {
		c.BatchDelay = DefaultBatchDelay
	}
	return c
}
