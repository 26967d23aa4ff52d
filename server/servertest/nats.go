package servertest

import (
	"testing"

	"wsplay/server/internal/natstest"
)

// StartNATS starts a NATS server with JetStream on a free loopback port
// for t (natstest.Start), stopped when t ends, and returns the URL that
// its clients, and wsplay's -nats, take: for the tests outside server/,
// which cannot import natstest.
func StartNATS(t testing.TB) string {
	t.Helper()
	return natstest.Start(t).ClientURL()
}
