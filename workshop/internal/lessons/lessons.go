// Package lessons renders the workshop's lessons, written in Markdown, as
// the HTML pages the playground serves under /workshop/: an index, and a
// page per exercise. scripts/workshop pages writes them into site/workshop,
// at build time; a test keeps them in step with the lessons.
package lessons

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Dir is where the pages go in the site, and their URL path.
const Dir = "workshop"

var lessonDir = regexp.MustCompile(`^\d\d-[a-z0-9-]+$`)

// Render returns the pages for the lessons in fsys (README.md and
// NN-slug/README.md), by path in the site: workshop/index.html,
// workshop/NN-slug/index.html, workshop/lesson.css and workshop/icon.svg
// (a page without an icon makes the browser ask for /favicon.ico), and
// workshop/live.js, the lessons' live panel.
//
// Each lesson page has a live panel, at the end of its "See it in the
// page" section: a section#live that live.js fills when the page is
// served by the exercise's scripts/workshop serve, from what
// GET /api/workshop says there. Served by anything else, the panel says
// how to bring it to life.
func Render(fsys fs.FS) (map[string][]byte, error) {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(links{}, 100))),
	)
	pages := map[string][]byte{
		path.Join(Dir, "lesson.css"): []byte(css),
		path.Join(Dir, "icon.svg"):   []byte(icon),
		path.Join(Dir, "live.js"):    []byte(liveJS),
	}
	render := func(src, out, lesson string) error {
		data, err := fs.ReadFile(fsys, src)
		if err != nil {
			return err
		}
		var body bytes.Buffer
		if err := md.Convert(data, &body); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		html := body.String()
		if lesson != "" {
			html = withLivePanel(html, lesson)
		}
		var page bytes.Buffer
		err = pageTemplate.Execute(&page, map[string]any{
			"Title": title(data), "Body": template.HTML(html), "Live": lesson != "",
		})
		pages[out] = page.Bytes()
		return err
	}
	if err := render("README.md", path.Join(Dir, "index.html"), ""); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && lessonDir.MatchString(e.Name()) {
			if err := render(path.Join(e.Name(), "README.md"), path.Join(Dir, e.Name(), "index.html"), e.Name()); err != nil {
				return nil, err
			}
		}
	}
	return pages, nil
}

// withLivePanel puts lesson's live panel at the end of its "See it in
// the page" section, or at the end of the lesson if it has none.
func withLivePanel(html, lesson string) string {
	n, _ := strconv.Atoi(lesson[:2])
	panel := fmt.Sprintf(`<section id="live" class="live" data-exercise="%d" aria-labelledby="live-title">
<h3 id="live-title">Live</h3>
<p class="live-state" role="status">This panel shows your code at work when this page is served by <code>scripts/workshop serve %d</code>: run it, then open this page from the address it prints (<a href="http://127.0.0.1:8080/workshop/%s/">http://127.0.0.1:8080/workshop/%s/</a>).</p>
</section>
`, n, n, lesson, lesson)
	const heading = "<h2>See it in the page</h2>"
	at := strings.Index(html, heading)
	if at < 0 {
		return html + panel
	}
	end := strings.Index(html[at+len(heading):], "<h2")
	if end < 0 {
		return html + panel
	}
	end += at + len(heading)
	return html[:end] + panel + html[end:]
}

// title is the text of the lesson's first heading.
func title(md []byte) string {
	for line := range strings.Lines(string(md)) {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return "Workshop"
}

// links points the lessons' links to each other (NN-slug/README.md, or
// ../NN-slug/README.md) at their pages.
type links struct{}

var lessonLink = regexp.MustCompile(`^(\.\./)?(\d\d-[a-z0-9-]+)/README\.md$`)

func (links) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			if m := lessonLink.FindSubmatch(l.Destination); m != nil {
				l.Destination = append(append([]byte(nil), m[1]...), append(m[2], '/')...)
			}
		}
		return ast.WalkContinue, nil
	})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · wsplay workshop</title>
<link rel="stylesheet" href="/workshop/lesson.css">
<link rel="icon" href="/workshop/icon.svg">
</head>
<body>
<nav><a href="/workshop/">Workshop</a> · <a href="/">the playground</a></nav>
<main>
{{.Body}}
</main>
{{if .Live}}<script src="/workshop/live.js"></script>
{{end}}</body>
</html>
`))

const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b57d0"/><path d="M3 5l2.5 7 2.5-5 2.5 5L13 5" fill="none" stroke="#fff" stroke-width="1.6"/></svg>
`

const css = `body { font: 16px/1.55 system-ui, sans-serif; margin: 0 auto; max-width: 46rem; padding: 1rem; color: #1b1b1b; background: #fff; }
nav { font-size: 0.9rem; margin-bottom: 1rem; }
a { color: #0b57d0; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; background: #f3f3f3; }
code { padding: 0 0.2em; }
pre { padding: 0.75rem; overflow-x: auto; }
pre code { padding: 0; }
table { border-collapse: collapse; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
.live { border: 2px solid #0b57d0; border-radius: 6px; padding: 0.5rem 1rem 1rem; margin: 1rem 0; }
.live h3 { margin: 0.3rem 0; }
.live form, .live .row { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin: 0.4rem 0; }
.live input { font: inherit; padding: 0.2rem 0.4rem; min-width: 8rem; flex: 1; }
.live button { font: inherit; }
.live .answer { margin: 0.2rem 0; color: #333; }
.live ol.frames { font: 0.85rem/1.4 ui-monospace, monospace; max-height: 18rem; overflow-y: auto; background: #f7f7f7; padding: 0.4rem 0.4rem 0.4rem 2.8rem; margin: 0.4rem 0; overflow-wrap: anywhere; }
.live .in { color: #1b1b1b; }
.live .out { color: #0b57d0; }
.live .end { color: #a40e26; }
.live iframe { width: 100%; height: 32rem; border: 1px solid #ccc; margin-top: 0.5rem; }
`
