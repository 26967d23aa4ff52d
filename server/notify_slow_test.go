//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/notify"
	"wsplay/shared"
)

// A tab that never reads is dropped alone (1008 "too slow"); the user's
// other tab keeps everything, and the slow one resumes exactly.
func TestNotifySlowTabIsClosedAndResumes(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Gate.Conn.SendQueue = 8
	cfg.Gate.Conn.WriteWait = time.Second
	ts := startServer(t, cfg)
	healthy := ts.openTab(t, "ada")
	healthy.synced()
	slow, _ := dialGorillaTCP(t, ts, notifyQuery("ada"), 4096)
	_ = slow // never reads
	eventually(t, "two subscriptions", func() bool { return ts.memoryBroker().Subscribers(notify.Key("ada")) == 2 })

	// 120 notifications of 30 KB (near the most a frame holds): far more
	// than the socket buffers hold.
	big := strings.Repeat("x", 30<<10)
	const n = 120
	var last shared.Notification
	for i := range n {
		body := fmt.Appendf(nil, `{"user_id":"ada","title":"%d","data":{"blob":"%s"}}`, i, big)
		status, resp := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, body)
		require.Equal(t, http.StatusCreated, status)
		require.NoError(t, json.Unmarshal(resp, &last))
		require.Equal(t, uint64(i+1), healthy.notification().Seq)
	}
	eventually(t, "the slow tab to be dropped", func() bool { return ts.memoryBroker().Subscribers(notify.Key("ada")) == 1 })

	again := ts.openTab(t, "ada", "since", "100")
	backlog, synced := again.synced()
	assert.Equal(t, seqRange(101, n), seqsOf(backlog))
	assert.Equal(t, last.Seq, synced.Seq)
}
