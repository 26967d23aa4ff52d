package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The arithmetic, worked by hand for round inputs: 60,000 users in rooms
// of 10, one message a minute, two connections each.
func TestWorkByHand(t *testing.T) {
	in := Inputs{
		RoomSize: 10, Rate: 1, Conns: 2,
		MemPerConn: 10 << 10, KernelPerConn: 6 << 10, // 16 KiB a connection
		CPUDelivery: 10e-6, CPUFollowed: 100e-6, NATSPerMessage: 1e-3,
		StreamAppends: 1000, BucketWrites: 4000,
		PresenceRefresh: 10, OnlineRenew: 30,
		NodeCores: 1, NodeMem: 1 << 30, Headroom: 0.5,
	}
	p := Work(60000, in)
	assert.Equal(t, 120000, p.Conns)
	assert.Equal(t, 6000, p.Rooms)
	assert.InDelta(t, 1000, p.Messages, 1e-9, "60,000 users × 1 a minute")
	assert.InDelta(t, 10000, p.Deliveries, 1e-9)
	// 120,000 × 16 KiB = 1.83 GiB, at half of 1 GiB a node: 4 nodes.
	assert.Equal(t, 4, p.NodesForMemory)
	// Deliveries alone take 0.1 core; each message reaches
	// k(1-(1-1/k)^10) nodes at 100 µs: with 1 node 0.2 cores, within 0.5.
	assert.Equal(t, 1, p.NodesForCPU)
	assert.Equal(t, 4, p.Nodes)
	want := 4 * (1 - math.Pow(0.75, 10))
	assert.InDelta(t, want, p.NodesPerRoom, 1e-9)
	assert.InDelta(t, 0.1+0.1*want, p.CPU, 1e-9)
	assert.InDelta(t, 1, p.NATSCPU, 1e-9, "1,000 messages a second at 1 ms")
	assert.InDelta(t, 6000, p.PresenceWrites, 1e-9)
	assert.InDelta(t, 2000, p.NotifyWrites, 1e-9)
	assert.Contains(t, p.First, "presence bucket")
	assert.Contains(t, p.First, "150%")
	assert.Contains(t, p.First, "past")

	in.RoomAffinity = true
	assert.InDelta(t, 1, Work(60000, in).NodesPerRoom, 1e-9, "a room on one node")
}

// A CPU-bound plan grows the node count until the load fits.
func TestWorkCPUBound(t *testing.T) {
	in := defaults
	in.NodeMem = 1 << 50 // memory is no limit
	in.CPUDelivery = 1e-3
	p := Work(100000, in)
	// 100,000/60 × 50 deliveries a second at 1 ms: 83 cores, plus the
	// follows; planning for 4 of each node's 8 cores, at least 21 nodes.
	assert.GreaterOrEqual(t, p.NodesForCPU, 21)
	assert.LessOrEqual(t, p.CPU, float64(p.NodesForCPU)*in.NodeCores*in.Headroom)
	assert.Greater(t, p.CPU, float64(p.NodesForCPU-1)*in.NodeCores*in.Headroom, "the smallest count that carries it")
}

func TestRunRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{{"-users", "ten"}, {"-users", "0"}, {"-headroom", "2"}, {"-room-size", "0"}} {
		assert.Error(t, run(args, &bytes.Buffer{}), "%v", args)
	}
	var out bytes.Buffer
	require.NoError(t, run([]string{"-users", "1000"}, &out))
	assert.True(t, strings.Contains(out.String(), "1000 users, the measured limit met first"), out.String())
}
