// Package traffic is trackaudit's vocabulary: the Exchange record that every
// source (HAR, pcap, live proxy, saved capture) produces, the Findings that
// detectors attach to it, and small shared helpers (sites, cookies,
// parameters, page attribution) that detectors and sources use alike.
//
// It imports nothing else from the project.
package traffic
