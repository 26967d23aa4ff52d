package shared_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// Pages keeps the items in order, each run's JSON array within the
// budget, as full as the budget allows; an item larger than the budget
// gets a run of its own, and no items are one empty run.
func TestPages(t *testing.T) {
	assert.Equal(t, [][]string{nil}, shared.Pages([]string(nil), 10))

	var names []string
	for i := range 300 {
		names = append(names, strings.Repeat("n", i%40+1))
	}
	const budget = 500
	runs := shared.Pages(names, budget)
	require.Greater(t, len(runs), 1)
	assert.Equal(t, names, slices.Concat(runs...), "in order, none lost")
	for i, run := range runs {
		b, err := json.Marshal(run)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b), budget, "run %d", i)
		if i < len(runs)-1 {
			next, _ := json.Marshal(append(slices.Clone(run), runs[i+1][0]))
			assert.Greater(t, len(next), budget, "run %d could have taken one more", i)
		}
	}

	big := strings.Repeat("x", 2*budget)
	assert.Equal(t, [][]string{{"a"}, {big}, {"b"}}, shared.Pages([]string{"a", big, "b"}, budget))
}
