package main

// Placeholders until each subcommand lands in its own file. Whoever adds
// a subcommand's file deletes its line here.

import (
	"context"
	"errors"
	"io"
)

var errNotYet = errors.New("not implemented yet")

func runAnalyze(context.Context, []string, io.Writer, io.Writer) error { return errNotYet }
func runReport(context.Context, []string, io.Writer, io.Writer) error  { return errNotYet }
func runExport(context.Context, []string, io.Writer, io.Writer) error  { return errNotYet }
func runProxy(context.Context, []string, io.Writer, io.Writer) error   { return errNotYet }
func runCA(context.Context, []string, io.Writer, io.Writer) error      { return errNotYet }
func runBrowse(context.Context, []string, io.Writer, io.Writer) error  { return errNotYet }
