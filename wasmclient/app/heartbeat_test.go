package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The heartbeat on a clock the test moves: a ping after half the limit
// of silence, a drop when the other half passes with no answer, and
// anything heard in between puts it off.
func TestBeatPingsWhenQuietAndGivesUpWithoutAnAnswer(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	b := newBeat(10*time.Second, t0)

	act, _, again := b.check(at(time.Second))
	assert.Equal(t, beatWait, act)
	assert.Equal(t, at(5*time.Second), again, "first look at half the limit")

	act, id, again := b.check(at(5 * time.Second))
	require.Equal(t, beatPing, act)
	assert.Equal(t, "1", id)
	assert.Equal(t, at(10*time.Second), again)

	// The pong: heard, and the round trip timed.
	b.pong("1", at(5*time.Second+40*time.Millisecond))
	assert.Equal(t, 40*time.Millisecond, b.rtt)
	act, _, again = b.check(at(10 * time.Second))
	assert.Equal(t, beatWait, act, "answered: alive")
	assert.Equal(t, at(10*time.Second+40*time.Millisecond), again)

	act, id, _ = b.check(at(10*time.Second + 40*time.Millisecond))
	require.Equal(t, beatPing, act)
	assert.Equal(t, "2", id, "a new id for each ping")
	// No answer, and nothing else: dead half a limit after the ping.
	act, _, again = b.check(at(15 * time.Second))
	assert.Equal(t, beatWait, act)
	assert.Equal(t, at(15*time.Second+40*time.Millisecond), again)
	act, _, _ = b.check(at(15*time.Second + 40*time.Millisecond))
	assert.Equal(t, beatDead, act)
}

func TestBeatCountsAnyMessageAsAnAnswer(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	b := newBeat(2*time.Second, t0)
	act, _, _ := b.check(t0.Add(time.Second))
	require.Equal(t, beatPing, act)
	b.heardAt(t0.Add(1500 * time.Millisecond)) // a chat line, say, before the pong
	act, _, again := b.check(t0.Add(2 * time.Second))
	assert.Equal(t, beatWait, act)
	assert.Equal(t, t0.Add(2500*time.Millisecond), again)
	// The late pong still times its ping.
	b.pong("1", t0.Add(2100*time.Millisecond))
	assert.Equal(t, 1100*time.Millisecond, b.rtt)
	b.pong("1", t0.Add(2200*time.Millisecond)) // a duplicate changes nothing
	assert.Equal(t, 1100*time.Millisecond, b.rtt)
}

// A timer that fires late (a background tab's are slowed down) finds a
// long silence, but no ping has gone unanswered yet: it pings rather
// than drop a connection that may be fine.
func TestBeatLateTimerPingsInsteadOfGivingUp(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	b := newBeat(time.Second, t0)
	act, _, again := b.check(t0.Add(time.Minute))
	assert.Equal(t, beatPing, act)
	assert.Equal(t, t0.Add(time.Minute+500*time.Millisecond), again)
}

func TestBeatDefaultsWhenUnset(t *testing.T) {
	t.Parallel()
	b := newBeat(0, time.Time{})
	assert.Equal(t, DefaultHeartbeat, b.limit)
}

func TestHeartbeatOfThePageURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url  string
		want time.Duration
	}{
		{"http://localhost:8080/", DefaultHeartbeat},
		{"http://localhost:8080/?heartbeat=2s", 2 * time.Second},
		{"https://example.org/play?x=1&heartbeat=1m30s#chat", 90 * time.Second},
	} {
		got, err := HeartbeatOf(tt.url)
		require.NoError(t, err, tt.url)
		assert.Equal(t, tt.want, got, tt.url)
	}
	for _, bad := range []string{"?heartbeat=2", "?heartbeat=500ms", "?heartbeat=11m", "?heartbeat=-1s", "?heartbeat=soon"} {
		_, err := HeartbeatOf("http://localhost:8080/" + bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "heartbeat=", bad)
		assert.Contains(t, err.Error(), "from 1s to 10m0s", bad)
	}
}
