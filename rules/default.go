package rules

import (
	_ "embed"
	"sync"
)

// trackersTxt is the curated rule set, written by the project from vendor
// documentation and observed traffic (see its header).
//
//go:embed trackers.txt
var trackersTxt []byte

// DefaultName is the file name the embedded rules report in errors.
const DefaultName = "trackers.txt"

var defaultSet = sync.OnceValue(func() *Set {
	s, err := Parse(DefaultName, trackersTxt)
	if err != nil {
		// The embedded file is part of the program and TestDefaultParses
		// keeps it valid; a failure here is a build defect, not bad input.
		panic("rules: embedded " + err.Error())
	}
	return s
})

// Default returns the embedded curated rule set, parsed on first use and
// shared afterwards. It is read-only and safe for concurrent use.
func Default() *Set { return defaultSet() }
