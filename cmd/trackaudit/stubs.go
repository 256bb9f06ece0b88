package main

// Placeholders until each subcommand lands in its own file. Whoever adds
// a subcommand's file deletes its line here.

import "errors"

var errNotYet = errors.New("not implemented yet")
