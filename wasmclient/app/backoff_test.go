package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffCeilingDoublesUpToMax(t *testing.T) {
	t.Parallel()
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second, rand: func() float64 { return 0.999999 }}
	var got []time.Duration
	for range 6 {
		got = append(got, b.Next().Round(time.Millisecond))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		assert.Equal(t, want[i]*time.Millisecond, got[i], "attempt %d", i)
	}
	b.Reset()
	assert.Equal(t, 100*time.Millisecond, b.Next().Round(time.Millisecond))
}

func TestBackoffIsSpreadOut(t *testing.T) {
	t.Parallel()
	// 1,000 clients cut off at once: their first waits must not bunch up.
	const n = 1000
	var buckets [10]int
	for range n {
		b := Backoff{Min: time.Second, Max: time.Second}
		d := b.Next()
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.Less(t, d, time.Second)
		buckets[int(d*10/time.Second)]++
	}
	for i, c := range buckets {
		// Uniform would be 100 per bucket; allow wide statistical slack.
		assert.Greater(t, c, 40, "bucket %d of the first wait holds %d of %d", i, c, n)
	}
}
