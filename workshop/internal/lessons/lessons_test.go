package lessons_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/workshop"
	"wsplay/workshop/internal/lessons"
)

// The pages in site/workshop are the lessons as they are now: a lesson
// changed without scripts/workshop pages fails here.
func TestPagesAreUpToDate(t *testing.T) {
	pages, err := lessons.Render(workshop.Lessons)
	require.NoError(t, err)
	root := filepath.Join("..", "..", "..", "site")
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		require.NoError(t, err, "site/%s is missing: run scripts/workshop pages", name)
		assert.Equal(t, string(want), string(got), "site/%s is out of date: run scripts/workshop pages", name)
	}
	var files int
	filepath.WalkDir(filepath.Join(root, lessons.Dir), func(_ string, d os.DirEntry, _ error) error {
		if !d.IsDir() {
			files++
		}
		return nil
	})
	assert.Equal(t, len(pages), files, "site/workshop holds a page of no lesson: run scripts/workshop pages")
}

// The index links every lesson's page; each page has its lesson's title
// and tasks, and no link to a README.md left.
func TestPagesLinkEachOther(t *testing.T) {
	t.Parallel()
	pages, err := lessons.Render(workshop.Lessons)
	require.NoError(t, err)
	index := string(pages["workshop/index.html"])
	require.Contains(t, index, "<title>Workshop · wsplay workshop</title>")
	lessonPages := 0
	for name, page := range pages {
		dir, ok := strings.CutSuffix(name, "/index.html")
		if !ok || dir == lessons.Dir {
			continue
		}
		lessonPages++
		slug := strings.TrimPrefix(dir, lessons.Dir+"/")
		assert.Contains(t, index, `href="`+slug+`/"`, "the index links %s", slug)
		assert.Contains(t, string(page), "<h2>Tasks</h2>", "%s has its tasks", slug)
		assert.NotContains(t, string(page), "README.md\"", "%s links no README.md", slug)
	}
	assert.GreaterOrEqual(t, lessonPages, 9)
}
