// Command capacity works out, from this project's own measurements, how
// many wsplay nodes and what load on NATS a number of concurrent users
// needs, and which limit is met first. It is arithmetic, not a load run:
// every input is a flag whose default is a figure measured on this
// project's 2-core test machine (the README's "Measured" and "Past
// these machines" sections say which command measured which), so that
// anyone can put in figures from their own machines.
//
//	go run ./scripts/capacity
//	go run ./scripts/capacity -users 250000 -room-size 30 -rate 2
//
// The workload: every user has -conns connections open (chat and
// notifications), is in one room of -room-size members, and sends -rate
// chat messages a minute, each delivered to every member of the room.
// Rooms are spread over the nodes the way a balancer that knows nothing
// of rooms spreads them (each member on a node at random), unless
// -room-affinity says a balancer sends a room's members to one node.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Inputs are the workload and the measured costs.
type Inputs struct {
	RoomSize     int     // members per room
	Rate         float64 // chat messages per user per minute
	Conns        int     // connections per user
	RoomAffinity bool    // a room's members all on one node

	MemPerConn     float64 // bytes of server memory per idle connection
	KernelPerConn  float64 // bytes of kernel memory per socket (assumed, not measured here)
	CPUDelivery    float64 // server CPU seconds per delivery (one message to one member)
	CPUFollowed    float64 // node CPU seconds per message it takes from a room's stream
	NATSPerMessage float64 // NATS server CPU seconds per chat message
	StreamAppends  float64 // appends per second one stream takes (one writer)
	BucketWrites   float64 // writes per second one key-value bucket takes (many writers)

	PresenceRefresh float64 // seconds between refreshes of a presence key
	OnlineRenew     float64 // seconds between renewals of a followed user's online mark

	NodeCores float64 // cores per node
	NodeMem   float64 // bytes of memory per node
	Headroom  float64 // the share of a node's cores and memory to plan for
}

// Plan is what a number of users needs.
type Plan struct {
	Users, Conns, Rooms  int
	Messages, Deliveries float64 // per second
	NodesForMemory       int
	NodesForCPU          int
	Nodes                int     // the larger, and at least 2 (one may fail)
	NodesPerRoom         float64 // nodes a room's message reaches, on average
	CPU                  float64 // cores busy over all nodes
	NATSCPU              float64 // cores busy on NATS for chat messages
	StreamRate           float64 // appends per second to one room's stream
	PresenceWrites       float64 // per second, to the presence bucket
	NotifyWrites         float64 // per second, to the notification bucket (online marks)
	Consumers            int     // ordered consumers on NATS: rooms' follows and users' watches
	First                string  // the limit met first
}

// nodesPerRoom is how many of k nodes host at least one of a room's
// members when each member is on a node at random: k(1-(1-1/k)^size).
func nodesPerRoom(k, size int, affinity bool) float64 {
	if affinity || k == 1 {
		return 1
	}
	return float64(k) * (1 - math.Pow(1-1/float64(k), float64(size)))
}

// Work makes the plan for users.
func Work(users int, in Inputs) Plan {
	p := Plan{Users: users, Conns: users * in.Conns, Rooms: int(math.Ceil(float64(users) / float64(in.RoomSize)))}
	p.Messages = float64(users) * in.Rate / 60
	p.Deliveries = p.Messages * float64(in.RoomSize)
	p.NodesForMemory = int(math.Ceil(float64(p.Conns) * (in.MemPerConn + in.KernelPerConn) / (in.NodeMem * in.Headroom)))
	// CPU depends on the node count (a room spread over more nodes is
	// taken from its stream by more of them): the smallest count that
	// carries it.
	for k := 1; ; k++ {
		e := nodesPerRoom(k, in.RoomSize, in.RoomAffinity)
		cpu := p.Deliveries*in.CPUDelivery + p.Messages*e*in.CPUFollowed
		if cpu <= float64(k)*in.NodeCores*in.Headroom || k > 100000 {
			p.NodesForCPU, p.CPU = k, cpu
			break
		}
	}
	p.Nodes = max(p.NodesForMemory, p.NodesForCPU, 2)
	p.NodesPerRoom = nodesPerRoom(p.Nodes, in.RoomSize, in.RoomAffinity)
	p.CPU = p.Deliveries*in.CPUDelivery + p.Messages*p.NodesPerRoom*in.CPUFollowed
	p.NATSCPU = p.Messages * in.NATSPerMessage
	p.StreamRate = float64(in.RoomSize) * in.Rate / 60
	// A presence key per room, user and node: one per user here.
	p.PresenceWrites = float64(users) / in.PresenceRefresh
	p.NotifyWrites = float64(users) / in.OnlineRenew
	p.Consumers = int(math.Round(float64(p.Rooms)*p.NodesPerRoom)) + users
	p.First = first(p, in)
	return p
}

// first names the limit the plan comes closest to, of those measured.
func first(p Plan, in Inputs) string {
	type limit struct {
		name string
		used float64 // share of what was measured
	}
	limits := []limit{
		{"a room's stream (appends/s)", p.StreamRate / in.StreamAppends},
		{"the presence bucket (writes/s)", p.PresenceWrites / in.BucketWrites},
		{"the notification bucket (writes/s)", p.NotifyWrites / in.BucketWrites},
	}
	best := limits[0]
	for _, l := range limits[1:] {
		if l.used > best.used {
			best = l
		}
	}
	verdict := "within"
	if best.used > 1 {
		verdict = "past"
	}
	return fmt.Sprintf("%s: %.0f%% of the measured rate (%s it)", best.name, best.used*100, verdict)
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(2)
	}
}

// The measured defaults; the README says which command measured each.
var defaults = Inputs{
	RoomSize: 50, Rate: 1, Conns: 2,
	MemPerConn:      8.4 * 1024,          // scripts/bench -only idle
	KernelPerConn:   4 * 1024,            // assumed: an idle loopback socket's kernel state
	CPUDelivery:     1 / 121649.0,        // scripts/bench -only cluster, one node: deliveries per server CPU-second
	CPUFollowed:     420e-6,              // scripts/bench -only cluster: node CPU beyond its deliveries, per message followed
	NATSPerMessage:  1.07e-3,             // scripts/bench -only cluster: NATS CPU per message (one append, three nodes following)
	StreamAppends:   3800,                // BenchmarkJetStreamAppendMessage/one
	BucketWrites:    7500,                // BenchmarkJetStreamAppendMessage/parallel
	PresenceRefresh: 10, OnlineRenew: 30, // store.DefaultPresenceRefresh, store's onlineFor/3
	NodeCores: 8, NodeMem: 32 << 30, Headroom: 0.5,
}

func run(args []string, out io.Writer) error {
	in := defaults
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	users := fs.String("users", "100000,1000000", "concurrent users to plan for, comma-separated")
	fs.IntVar(&in.RoomSize, "room-size", in.RoomSize, "members per room")
	fs.Float64Var(&in.Rate, "rate", in.Rate, "chat messages per user per minute")
	fs.IntVar(&in.Conns, "conns", in.Conns, "connections per user")
	fs.BoolVar(&in.RoomAffinity, "room-affinity", false, "a balancer sends a room's members to one node")
	fs.Float64Var(&in.MemPerConn, "mem-per-conn", in.MemPerConn, "server `bytes` per idle connection")
	fs.Float64Var(&in.KernelPerConn, "kernel-per-conn", in.KernelPerConn, "kernel `bytes` per socket")
	fs.Float64Var(&in.CPUDelivery, "cpu-per-delivery", in.CPUDelivery, "server CPU `seconds` per delivery")
	fs.Float64Var(&in.CPUFollowed, "cpu-per-followed", in.CPUFollowed, "node CPU `seconds` per message taken from a room's stream")
	fs.Float64Var(&in.NATSPerMessage, "nats-cpu-per-message", in.NATSPerMessage, "NATS CPU `seconds` per chat message")
	fs.Float64Var(&in.StreamAppends, "stream-appends", in.StreamAppends, "appends per second one stream takes")
	fs.Float64Var(&in.BucketWrites, "bucket-writes", in.BucketWrites, "writes per second one key-value bucket takes")
	fs.Float64Var(&in.NodeCores, "node-cores", in.NodeCores, "cores per node")
	fs.Float64Var(&in.NodeMem, "node-mem", in.NodeMem, "`bytes` of memory per node")
	fs.Float64Var(&in.Headroom, "headroom", in.Headroom, "the share of each node to plan for (0 to 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case in.RoomSize < 1, in.Conns < 1, in.Rate < 0:
		return errors.New("-room-size and -conns must be at least 1, -rate not negative")
	case in.Headroom <= 0 || in.Headroom > 1:
		return errors.New("-headroom: more than 0, at most 1")
	case in.NodeCores <= 0 || in.NodeMem <= 0 || in.StreamAppends <= 0 || in.BucketWrites <= 0:
		return errors.New("node sizes and measured rates must be positive")
	}
	var counts []int
	for f := range strings.SplitSeq(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-users: %q is not a positive whole number", f)
		}
		counts = append(counts, n)
	}
	fmt.Fprintf(out, "Each user: %d connections, one room of %d, %g messages a minute; nodes of %g cores and %.0f GiB, planned at %.0f%%.\n\n",
		in.Conns, in.RoomSize, in.Rate, in.NodeCores, in.NodeMem/(1<<30), in.Headroom*100)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "users\tconnections\tmsg/s\tdeliveries/s\tnodes (memory, CPU)\tnode cores busy\tnodes a message reaches\tNATS cores busy\tpresence writes/s\tnotify writes/s\tNATS consumers\t")
	for _, n := range counts {
		p := Work(n, in)
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.0f\t%d (%d, %d)\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%d\t\n",
			p.Users, p.Conns, p.Messages, p.Deliveries, p.Nodes, p.NodesForMemory, p.NodesForCPU, p.CPU, p.NodesPerRoom, p.NATSCPU, p.PresenceWrites, p.NotifyWrites, p.Consumers)
	}
	tw.Flush()
	fmt.Fprintln(out)
	for _, n := range counts {
		fmt.Fprintf(out, "%d users, the measured limit met first: %s\n", n, Work(n, in).First)
	}
	return nil
}
