// Command cluster runs several wsplay processes that share their chat
// rooms through one NATS server with JetStream, all on loopback, for
// trying -nats from one shell:
//
//	go run ./scripts/cluster            # three nodes on 8081, 8082, 8083, the front on 8080
//	go run ./scripts/cluster -nodes 2 -base-port 9001
//
// It builds the page and the server as scripts/run does, starts the NATS
// server inside this process (built from the nats-server module the
// project depends on, nothing downloaded), then the nodes, each with its
// own data directory under -data and one shared JWT secret and admin
// token, and prints their addresses and process ids. Ctrl-C (or
// -duration) stops the nodes, then NATS.
//
// In front of the nodes, on -front-port (8080 by default, the port below
// the first node's), a reverse proxy in this process sends every request
// (page, API, WebSocket) to one node: the one the page's ?node=N chose,
// kept in a cookie so the page's own requests follow it, node 1 without
// one; or, when that node does not answer the dial, to the next. Open
// http://127.0.0.1:8080/?node=1 in one tab and ?node=2 in another: a chat
// line crosses. Type "kill 1" (SIGKILL node 1) and the first tab's cards
// reconnect through the front to node 2; "start 1" starts node 1 again
// on its port and data.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"wsplay/server/natsembed"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	nodes := fs.Int("nodes", 3, "how many wsplay processes (1 to 9)")
	basePort := fs.Int("base-port", 8081, "the first node's `port` on 127.0.0.1; the others follow")
	dataDir := fs.String("data", "data-cluster", "`directory` for NATS's and every node's data")
	duration := fs.Duration("duration", 0, "stop by itself after this long (0: at Ctrl-C)")
	frontPort := fs.Int("front-port", -1, "`port` on 127.0.0.1 of the front, a proxy to the nodes (-1: the one below -base-port; 0: no front)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 9 {
		return errors.New("-nodes: 1 to 9")
	}
	if *basePort < 1024 || *basePort+*nodes > 65535 {
		return errors.New("-base-port: 1024 to 65535, with room for every node")
	}
	if *frontPort == -1 {
		*frontPort = *basePort - 1
	}
	if *frontPort != 0 && (*frontPort < 1024 || *frontPort > 65535 || *frontPort >= *basePort && *frontPort < *basePort+*nodes) {
		return errors.New("-front-port: 0, or 1024 to 65535 and none of the nodes' ports")
	}
	if err := os.Chdir(projectRoot()); err != nil {
		return err
	}
	for _, step := range [][]string{{"run", "./scripts/buildsite"}, {"build", "-o", filepath.Join("bin", "wsplay"), "./server"}} {
		cmd := exec.Command("go", step...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %v: %w", step, err)
		}
	}

	ns, err := natsembed.Start(natsembed.Options("wsplay-cluster", filepath.Join(*dataDir, "nats")))
	if err != nil {
		return err
	}
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
		fmt.Println("NATS stopped")
	}()
	fmt.Printf("NATS with JetStream at %s (data in %s)\n", ns.ClientURL(), filepath.Join(*dataDir, "nats"))

	secret, admin := rand.Text()+rand.Text(), rand.Text()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	c := &cluster{exited: make(chan int, 1)}
	for i := 1; i <= *nodes; i++ {
		addr := "127.0.0.1:" + strconv.Itoa(*basePort+i-1)
		c.nodes = append(c.nodes, &node{n: i, addr: addr, args: []string{"-addr", addr, "-nats", ns.ClientURL(),
			"-data", filepath.Join(*dataDir, "node"+strconv.Itoa(i)), "-jwt-secret", secret, "-admin-token", admin}})
	}
	var front *http.Server
	defer func() {
		c.stop()
		if front != nil {
			front.Close()
		}
	}()
	for _, nd := range c.nodes {
		if err := c.start(nd); err != nil {
			return err
		}
	}

	if *frontPort != 0 {
		var addrs []string
		for _, nd := range c.nodes {
			addrs = append(addrs, nd.addr)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*frontPort))
		if err != nil {
			return fmt.Errorf("front: %w", err)
		}
		front = &http.Server{Handler: newFront(addrs, log.New(os.Stdout, "[front] ", 0)), ReadHeaderTimeout: 10 * time.Second}
		go front.Serve(ln)
		for _, nd := range c.nodes {
			fmt.Printf("front, node %d preferred: http://%s/?node=%d\n", nd.n, ln.Addr(), nd.n)
		}
		fmt.Printf("(the front sends a page, its API calls and its sockets to the node its ?node= chose, kept in a cookie,\n" +
			" node 1 without one, or to the next node that answers; the response header " + NodeHeader + " names it)\n")
	}
	fmt.Printf("admin token for /api/notifications: %s\n", admin)
	fmt.Printf("type \"kill N\" to kill node N (SIGKILL), \"start N\" to start it again on its port and data; Ctrl-C stops everything\n")
	go c.commands(os.Stdin)

	select {
	case <-ctx.Done():
	case i := <-c.exited:
		fmt.Printf("node %d ended by itself: stopping the others\n", i)
	}
	return nil
}

// cluster is the running nodes.
type cluster struct {
	nodes []*node
	// exited receives the number of a node that ended without being
	// asked to: the cluster then stops.
	exited chan int

	mu       sync.Mutex
	stopping bool // no node starts any more
}

// node is one wsplay process, which kill and start may end and begin
// again on the same port and data.
type node struct {
	n    int
	addr string
	args []string // the server's flags

	mu     sync.Mutex
	cmd    *exec.Cmd
	ended  chan struct{} // closed when cmd has ended; nil before the first start
	asked  bool          // cmd was told to end: its end is no failure
	output sync.WaitGroup
}

// running reports whether nd has a process that has not ended; nd.mu is
// held.
func (nd *node) running() bool {
	if nd.ended == nil {
		return false
	}
	select {
	case <-nd.ended:
		return false
	default:
		return true
	}
}

// start starts nd's process, which must not be running.
func (c *cluster) start(nd *node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return errors.New("the cluster is stopping")
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.running() {
		return fmt.Errorf("node %d runs already (pid %d)", nd.n, nd.cmd.Process.Pid)
	}
	cmd := exec.Command(filepath.Join("bin", "wsplay"), nd.args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %d: %w", nd.n, err)
	}
	ended := make(chan struct{})
	nd.cmd, nd.ended, nd.asked = cmd, ended, false
	nd.output.Go(func() {
		prefix(os.Stdout, fmt.Sprintf("[node %d] ", nd.n), out) // until the node's output ends
		cmd.Wait()
		nd.mu.Lock()
		asked := nd.asked
		close(ended)
		nd.mu.Unlock()
		if asked {
			return
		}
		select {
		case c.exited <- nd.n:
		default: // the cluster is stopping already
		}
	})
	fmt.Printf("node %d: http://%s/ (pid %d)\n", nd.n, nd.addr, cmd.Process.Pid)
	return nil
}

// signal sends sig to nd's process, if it runs, and returns the channel
// closed when it has ended.
func (nd *node) signal(sig os.Signal) (ended <-chan struct{}, err error) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if !nd.running() {
		return nil, fmt.Errorf("node %d is not running", nd.n)
	}
	nd.asked = true
	return nd.ended, nd.cmd.Process.Signal(sig)
}

// stop ends every node: SIGTERM, then after 15 s SIGKILL.
func (c *cluster) stop() {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	var ends []<-chan struct{}
	for _, nd := range c.nodes {
		if e, err := nd.signal(syscall.SIGTERM); err == nil {
			ends = append(ends, e)
		}
	}
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for _, e := range ends {
		select {
		case <-e:
		case <-deadline.C:
			for _, nd := range c.nodes {
				nd.signal(syscall.SIGKILL)
			}
			<-e
		}
	}
	for _, nd := range c.nodes {
		nd.output.Wait()
	}
}

// commands reads "kill N" and "start N" lines from r until it ends.
func (c *cluster) commands(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		n, err := 0, error(nil)
		if len(f) == 2 {
			n, err = strconv.Atoi(f[1])
		}
		if len(f) != 2 || err != nil || n < 1 || n > len(c.nodes) || f[0] != "kill" && f[0] != "start" {
			fmt.Printf("commands: kill N, start N (N from 1 to %d)\n", len(c.nodes))
			continue
		}
		nd := c.nodes[n-1]
		if f[0] == "start" {
			if err := c.start(nd); err != nil {
				fmt.Println(err)
			}
			continue
		}
		ended, err := nd.signal(syscall.SIGKILL)
		if err != nil {
			fmt.Println(err)
			continue
		}
		select {
		case <-ended:
			fmt.Printf("node %d killed; its pages reconnect through the front to another node\n", n)
		case <-time.After(10 * time.Second):
			fmt.Printf("node %d: still not ended 10 s after SIGKILL\n", n)
		}
	}
}

// prefix copies r to w a line at a time, each line after p.
func prefix(w io.Writer, p string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintln(w, p+sc.Text())
	}
}

// projectRoot is the module's directory, where go run was started from
// or above.
func projectRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(out) == 0 {
		return "."
	}
	return filepath.Dir(string(out[:len(out)-1]))
}
