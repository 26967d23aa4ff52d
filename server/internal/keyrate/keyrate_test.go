package keyrate

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Now()
	l := New(1, 3, 2)
	for i := range 3 {
		if !l.Allow("a", now) {
			t.Fatalf("event %d of a burst of 3 refused", i)
		}
	}
	if d := l.Wait("a", now); d <= 0 || d > time.Second {
		t.Fatalf("the fourth: wait %v, want up to a second", d)
	}
	if !l.Allow("b", now) {
		t.Fatal("another key has its own bucket")
	}
	if l.Allow("c", now) {
		t.Fatal("a third key while both remembered are busy: refused")
	}
	later := now.Add(10 * time.Second)
	if !l.Allow("c", later) {
		t.Fatal("once the others have refilled, they are forgotten and c fits")
	}
	if len(l.keys) > 2 {
		t.Fatalf("remembers %d keys, at most 2", len(l.keys))
	}
	for i := range 100 {
		l.Allow(fmt.Sprint("k", i), later.Add(time.Duration(i)*time.Minute))
	}
	if len(l.keys) > 2 {
		t.Fatalf("remembers %d keys, at most 2", len(l.keys))
	}
}
