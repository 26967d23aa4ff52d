package shared

import (
	"fmt"
	"strings"
	"time"
)

// DashboardHistory is how many snapshots the first message of a dashboard
// connection carries: the newest plus up to DashboardHistory-1 in its
// History.
const DashboardHistory = 60

// DashboardIntervals are the push intervals a dashboard client may ask for
// with the query parameter interval (as in /ws/dashboard?interval=250ms).
// Without it the server's default applies (1 s unless configured). The set
// is small on purpose: the server runs one sampler per interval in use and
// every viewer of an interval shares its snapshots.
var DashboardIntervals = []time.Duration{
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
}

// ParseDashboardInterval parses the interval query parameter: a Go
// duration ("250ms", "1s", "1000ms") equal to one of [DashboardIntervals].
func ParseDashboardInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil {
		for _, ok := range DashboardIntervals {
			if d == ok {
				return d, nil
			}
		}
	}
	names := make([]string, len(DashboardIntervals))
	for i, d := range DashboardIntervals {
		names[i] = d.String()
	}
	return 0, fmt.Errorf("interval %.20q: want one of %s", s, strings.Join(names, ", "))
}
