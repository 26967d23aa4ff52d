package app

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keys returns the transcript's keys in the order shown.
func (t *transcript) keys() []string {
	var keys []string
	for _, l := range t.lines {
		keys = append(keys, l.key)
	}
	return keys
}

func TestTranscriptPlacesAStoredLineInTheRoomsOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		seq        uint64 // the pending line's, once stored
		wantOrder  []string
		wantBefore string
	}{
		// Shown: mine (pending), bob's seq 5, a join, cy's seq 7.
		{"stored before everything shown after it", 3, []string{"mine", "bob", "join", "cy"}, "bob"},
		{"stored between bob's and cy's", 6, []string{"bob", "mine", "join", "cy"}, "join"},
		{"stored after everything", 9, []string{"bob", "join", "cy", "mine"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tr transcript
			names := map[string]string{}
			for _, l := range []struct {
				name string
				seq  uint64
			}{{"mine", 0}, {"bob", 5}, {"join", 0}, {"cy", 7}} {
				key, dropped := tr.add(l.seq, 0)
				require.Empty(t, dropped)
				names[key] = l.name
			}
			mine := tr.keys()[0]
			before, ok := tr.stored(mine, tt.seq)
			require.True(t, ok)
			var order []string
			for _, k := range tr.keys() {
				order = append(order, names[k])
			}
			assert.Equal(t, tt.wantOrder, order)
			assert.Equal(t, tt.wantBefore, names[before])
		})
	}
}

// Two lines sent while disconnected are both pending; the first one's
// acknowledgement must not move it below the second, which has no seq yet.
func TestTranscriptPendingLinesKeepTheirOrder(t *testing.T) {
	t.Parallel()
	var tr transcript
	first, _ := tr.add(0, 0)
	second, _ := tr.add(0, 0)
	replay, _ := tr.add(4, 0) // a message that arrived on reconnecting
	before, ok := tr.stored(first, 5)
	require.True(t, ok)
	assert.Equal(t, []string{second, replay, first}, tr.keys())
	assert.Empty(t, before)
	before, ok = tr.stored(second, 6)
	require.True(t, ok)
	assert.Equal(t, []string{replay, first, second}, tr.keys())
	assert.Empty(t, before)
}

func TestTranscriptDropsTheOldest(t *testing.T) {
	t.Parallel()
	var tr transcript
	pending, _ := tr.add(0, 0)
	var dropped []string
	for i := range MaxTranscript + 4 {
		_, d := tr.add(uint64(i+1), 0)
		dropped = append(dropped, d...)
	}
	require.Len(t, tr.lines, MaxTranscript)
	assert.Equal(t, []string{pending, "l2", "l3", "l4", "l5"}, dropped)
	assert.Equal(t, fmt.Sprintf("l%d", MaxTranscript+5), tr.lines[MaxTranscript-1].key)
	_, ok := tr.stored(pending, 999)
	assert.False(t, ok, "a line no longer shown is not placed")
}

// A join or a leave that comes after messages sent after it goes above
// them, by its time, but never above a line without a time (the live
// separator) nor above a line of the same time.
func TestTranscriptPlacesJoinsAndLeavesByTime(t *testing.T) {
	t.Parallel()
	var tr transcript
	old, _ := tr.add(1, 100) // history
	live, _ := tr.add(0, 0)  // the live separator
	a, _ := tr.add(2, 200)
	b, _ := tr.add(3, 300)
	c, _ := tr.add(4, 400)

	join, before, dropped := tr.addByTime(250) // between a and b
	require.Empty(t, dropped)
	assert.Equal(t, b, before)
	assert.Equal(t, []string{old, live, a, join, b, c}, tr.keys())

	leave, before, _ := tr.addByTime(500) // the latest: at the end
	assert.Empty(t, before)
	assert.Equal(t, []string{old, live, a, join, b, c, leave}, tr.keys())

	early, before, _ := tr.addByTime(50) // older than everything live
	assert.Equal(t, a, before, "not above the live separator")
	same, before, _ := tr.addByTime(300) // as old as b: after it
	assert.Equal(t, c, before)
	assert.Equal(t, []string{old, live, early, a, join, b, same, c, leave}, tr.keys())
}
