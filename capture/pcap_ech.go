package capture

// Encrypted Client Hello (ECH) puts the real server name in an encrypted
// inner ClientHello; the outer one a capture shows names the client-facing
// server's public name (e.g. "cloudflare-ech.com"), shared by every site
// behind it. Chrome also sends the ECH extension, as GREASE, to servers
// without ECH, so the extension's presence says nothing about the name.
// A server name is taken as an ECH public name when an HTTPS record in the
// capture's DNS answers announced it in an ECH configuration, or when it
// is Cloudflare's, the largest deployment (its ECHConfig public_name).

// knownECHPublicNames are public names of ECH deployments.
var knownECHPublicNames = map[string]bool{"cloudflare-ech.com": true}

// maxECHNames bounds the public names learnt from DNS.
const maxECHNames = 1024

// echNames knows ECH public names: the known ones and those DNS announced.
type echNames struct{ learnt map[string]bool }

// public reports whether host is an ECH public name.
func (e *echNames) public(host string) bool { return knownECHPublicNames[host] || e.learnt[host] }

// via is the Via of a contact to host over proto ("tls", "quic"):
// "PROTO-ech" for an ECH public name, else "PROTO-sni".
func (e *echNames) via(proto, host string) string {
	if e.public(host) {
		return proto + "-ech"
	}
	return proto + "-sni"
}

// learnHTTPSRecord reads the public names of the ECH configurations in the
// RDATA of an HTTPS or SVCB record (RFC 9460 §2.2: priority, an
// uncompressed target name, then key/length/value parameters; key 5 is
// "ech", an ECHConfigList, draft-ietf-tls-esni-22 §4).
func (e *echNames) learnHTTPSRecord(rdata []byte) {
	p := tlsCursor{b: rdata}
	p.skip(2) // SvcPriority
	for !p.bad {
		n := p.u8()
		if n == 0 {
			break
		}
		if n > 63 {
			return // no compression in a TargetName
		}
		p.skip(int(n))
	}
	for !p.bad && len(p.b) > 0 {
		key := p.u16()
		val := p.sub(p.u16())
		if key != 5 || p.bad {
			continue
		}
		list := val.sub(val.u16())
		for !list.bad && len(list.b) > 0 {
			version := list.u16()
			c := list.sub(list.u16())
			if version != 0xfe0d || list.bad {
				continue
			}
			c.skip(1 + 2)   // config_id, kem_id
			c.skip(c.u16()) // public_key
			c.skip(c.u16()) // cipher_suites
			c.skip(1)       // maximum_name_length
			name := c.sub(c.u8())
			if c.bad {
				continue
			}
			if host, ok := validHostName(name.b); ok {
				e.add(host)
			}
		}
	}
}

func (e *echNames) add(host string) {
	if e.learnt == nil || len(e.learnt) >= maxECHNames {
		e.learnt = map[string]bool{}
	}
	e.learnt[host] = true
}
