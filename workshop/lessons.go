// Package workshop holds the workshop's lessons, for the pages the
// playground serves under /workshop/ (see workshop/internal/lessons);
// each exercise is a folder of its own beside this file.
package workshop

import "embed"

// Lessons are the index (README.md) and every exercise's lesson
// (NN-slug/README.md).
//
//go:embed README.md */README.md
var Lessons embed.FS
