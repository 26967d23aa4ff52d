package app

import (
	"slices"
	"strconv"
)

// MaxTranscript bounds the lines a chat card shows; the oldest go first.
const MaxTranscript = 200

// transcript is the order of one chat card's lines as its view shows
// them, so that the client, which knows every seq, decides where a line
// goes and the view only follows. It holds at most MaxTranscript lines.
type transcript struct {
	lines []shownLine
	made  int // lines ever added, for their keys
}

// shownLine is one line of a transcript: its key; for a message the
// server has stored, its seq (0 for events, notes and the user's lines
// still pending); and the time it shows, in Unix milliseconds (0 for a
// line without one, such as the live separator).
type shownLine struct {
	key string
	seq uint64
	at  int64
}

// add appends a line with seq (0 for none) that shows the time at (0 for
// none). It returns the line's key, and the keys of the oldest lines
// that went to keep the bound.
func (t *transcript) add(seq uint64, at int64) (key string, dropped []string) {
	key, _, dropped = t.insert(len(t.lines), seq, at)
	return key, dropped
}

// addByTime adds the line of a join or a leave that happened at at
// (Unix milliseconds) after the last line that is not later than it, and
// never above a line without a time: the server sends presence and
// messages on separate paths (across nodes, separate streams), so a join
// may come after a message sent after it. It returns the line's key, the
// key of the line it goes before ("" when it is the last), and the keys
// of the lines dropped.
func (t *transcript) addByTime(at int64) (key, before string, dropped []string) {
	i := len(t.lines)
	for i > 0 && t.lines[i-1].at > at {
		i--
	}
	return t.insert(i, 0, at)
}

// insert puts a new line at i, and drops the oldest lines over the bound.
func (t *transcript) insert(i int, seq uint64, at int64) (key, before string, dropped []string) {
	t.made++
	key = "l" + strconv.Itoa(t.made)
	t.lines = slices.Insert(t.lines, i, shownLine{key, seq, at})
	if i+1 < len(t.lines) {
		before = t.lines[i+1].key
	}
	if over := len(t.lines) - MaxTranscript; over > 0 {
		for _, l := range t.lines[:over] {
			dropped = append(dropped, l.key)
		}
		t.lines = slices.Delete(t.lines, 0, over)
	}
	return key, before, dropped
}

// stored gives the pending line keyed key the seq the server stored it
// with, and moves it below the messages shown after it that the server
// stored before it, so that the transcript shows the room's order. It
// returns the key of the line it now comes before ("" when it is the
// last), and false when the line is no longer shown.
func (t *transcript) stored(key string, seq uint64) (before string, ok bool) {
	i := slices.IndexFunc(t.lines, func(l shownLine) bool { return l.key == key })
	if i < 0 {
		return "", false
	}
	to := i // after removing the line, it goes in at to
	for j := i + 1; j < len(t.lines); j++ {
		if s := t.lines[j].seq; s != 0 && s < seq {
			to = j
		}
	}
	at := t.lines[i].at
	t.lines = slices.Insert(slices.Delete(t.lines, i, i+1), to, shownLine{key, seq, at})
	if to+1 < len(t.lines) {
		before = t.lines[to+1].key
	}
	return before, true
}
