package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The cluster scenario: the fan-out of one room with its subscribers
// spread over three wsplay processes sharing the room through one NATS
// server (JetStream), beside the same fan-out on one process without
// NATS, in one run. The publisher is on node 1; a subscriber i is on node
// i mod 3 + 1. NATS runs as a process of its own, built from the
// nats-server module the project depends on, so its CPU is read like a
// node's.

// clusterNodes is how many wsplay processes the cluster side runs.
const clusterNodes = 3

// clusterSides are the two setups compared, in the table's order.
var clusterSides = []string{"one node", "three nodes"}

// clusterBench runs the cluster scenario for rounds rounds, the sides
// alternating, with n subscribers for duration, and prints its table.
func clusterBench(bins map[string]string, dir string, rounds, n int, duration time.Duration) error {
	if _, ok := bins["nats"]; !ok {
		bins["nats"] = filepath.Join(dir, "nats-server")
		if out, err := exec.Command("go", "build", "-o", bins["nats"], "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
			return fmt.Errorf("build nats-server (run from the module root): %w\n%s", err, out)
		}
	}
	got := map[string][]result{}
	for r := range rounds {
		order := slices.Clone(clusterSides)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, side := range order {
			res, err := clusterOnce(side, bins, dir, n, duration)
			if err != nil {
				return fmt.Errorf("cluster, %s: %w", side, err)
			}
			fmt.Printf("  cluster round %d %s: %v\n", r+1, side, res)
			got[side] = append(got[side], res)
		}
	}

	fmt.Printf("\n| fan-out, %d subscribers, 100 msg/s, %s, a frame per message | one wsplay node | %d nodes and NATS |\n|---|---|---|\n",
		n, duration, clusterNodes)
	row := func(figure, format string, keys ...string) {
		cells := []string{figure}
		for _, side := range clusterSides {
			var vs []string
			for _, k := range keys {
				if _, ok := got[side][0][k]; !ok {
					vs = append(vs, "—")
					continue
				}
				vs = append(vs, fmt.Sprintf(format, median(got[side], k)))
			}
			cells = append(cells, strings.Join(vs, " / "))
		}
		fmt.Printf("| %s |\n", strings.Join(cells, " | "))
	}
	row(fmt.Sprintf("messages sent (%d wanted)", int(100*duration.Seconds())), "%.0f", "sent")
	row("delivered / expected", "%.0f", "delivered", "expected")
	row("delivered %", "%.1f", "delivered %")
	row("p50 / p99 ms (send to receive)", "%.1f", "p50 ms", "p99 ms")
	for i := 1; i <= clusterNodes; i++ {
		row(fmt.Sprintf("CPU-s, node %d", i), "%.2f", "CPU-s node "+strconv.Itoa(i))
	}
	row("CPU-s, NATS", "%.2f", "CPU-s NATS")
	row("CPU-s, all servers", "%.2f", "server CPU-s")
	row("deliveries per server CPU-s", "%.0f", "deliveries per CPU-s")
	row("CPU-s, the load (this process)", "%.2f", "load CPU-s")
	for _, side := range clusterSides {
		if d := median(got[side], "delivered %"); d != 100 {
			fmt.Printf("MISSED %s: %.1f%% delivered, not all\n", side, d)
		} else {
			fmt.Printf("met    %s: every message delivered to every subscriber\n", side)
		}
	}
	return nil
}

// clusterOnce runs the fan-out once on fresh processes of one side.
func clusterOnce(side string, bins map[string]string, dir string, n int, duration time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var procs []*server
	defer func() {
		for _, p := range slices.Backward(procs) { // the nodes, then NATS
			p.stop()
		}
	}()
	var (
		nodes  []*server
		labels []string
		extra  []string
	)
	count := 1
	if side == "three nodes" {
		ns, err := start("nats", bins["nats"], dir)
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		procs = append(procs, ns)
		extra = []string{"-nats", "nats://" + ns.addr}
		count = clusterNodes
	}
	for i := 1; i <= count; i++ {
		s, err := start("wsplay", bins["wsplay"], dir, extra...)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		procs = append(procs, s)
		nodes = append(nodes, s)
		labels = append(labels, "node "+strconv.Itoa(i))
	}
	measured := slices.Clone(nodes)
	if count > 1 {
		measured, labels = append(measured, procs[0]), append(labels, "NATS")
	}
	return fanoutLoad{
		n: n, duration: duration,
		sub: func(i int) string {
			return nodes[i%len(nodes)].url("/ws/chat?room=load&username=sub" + strconv.Itoa(i))
		},
		pub:    nodes[0].url("/ws/chat?room=load&username=publisher"),
		procs:  measured,
		labels: labels,
	}.run(ctx)
}
