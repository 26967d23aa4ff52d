// Package site holds the playground page: index.html, style.css and the
// loader main.js, plus under dist/ the build output that scripts/run writes
// there — main.wasm (the Go client), the toolchain's wasm_exec.js, and the
// precompressed .gz and .br variants of both. The build output is not
// committed; dist/README.md keeps the directory in the repository.
// workshop/ holds the workshop's lessons as pages, written from the
// lessons by scripts/workshop pages and committed.
package site

import (
	"embed"
	"io/fs"
)

//go:embed index.html style.css main.js plain.js trythis.js dist workshop
var files embed.FS

// Files returns the site as the server serves it, rooted at the page.
func Files() fs.FS { return files }
