// Command cluster runs several wsplay processes that share their chat
// rooms through one NATS server with JetStream, all on loopback, for
// trying -nats from one shell:
//
//	go run ./scripts/cluster            # three nodes on 8081, 8082, 8083
//	go run ./scripts/cluster -nodes 2 -base-port 9001
//
// It builds the page and the server as scripts/run does, starts the NATS
// server inside this process (built from the nats-server module the
// project depends on, nothing downloaded), then the nodes, each with its
// own data directory under -data and one shared JWT secret and admin
// token, and prints their addresses. Ctrl-C (or -duration) stops the
// nodes, then NATS. Open one node's page in one tab and another's in a
// second: a chat line crosses.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 9 {
		return errors.New("-nodes: 1 to 9")
	}
	if *basePort < 1024 || *basePort+*nodes > 65535 {
		return errors.New("-base-port: 1024 to 65535, with room for every node")
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

	ns, err := natsserver.NewServer(&natsserver.Options{
		ServerName: "wsplay-cluster",
		Host:       "127.0.0.1",
		Port:       -1, // a free port
		JetStream:  true,
		StoreDir:   filepath.Join(*dataDir, "nats"),
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("nats: not ready within 10 s")
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
	var procs []*exec.Cmd
	var wg sync.WaitGroup
	exited := make(chan int, *nodes)
	for i := 1; i <= *nodes; i++ {
		addr := "127.0.0.1:" + strconv.Itoa(*basePort+i-1)
		cmd := exec.Command(filepath.Join("bin", "wsplay"), "-addr", addr, "-nats", ns.ClientURL(),
			"-data", filepath.Join(*dataDir, "node"+strconv.Itoa(i)), "-jwt-secret", secret, "-admin-token", admin)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		procs = append(procs, cmd)
		wg.Go(func() {
			prefix(os.Stdout, fmt.Sprintf("[node %d] ", i), out) // until the node's output ends
			cmd.Wait()
			exited <- i
		})
		fmt.Printf("node %d: http://%s/\n", i, addr)
	}
	fmt.Printf("admin token for /api/notifications: %s\n(Ctrl-C stops everything)\n", admin)

	select {
	case <-ctx.Done():
	case i := <-exited:
		fmt.Printf("node %d ended: stopping the others\n", i)
	}
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		for _, p := range procs {
			p.Process.Kill()
		}
		<-done
	}
	return nil
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
