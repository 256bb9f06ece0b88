package traffic

// Attributor ties each exchange to the first-party page that caused it.
// Feed it every exchange of one capture in order; it keeps state between
// calls (pages seen, per client) and is not safe for concurrent use.
//
// Browsers send only the origin as Referer across sites by default
// (strict-origin-when-cross-origin), so attribution never relies on a full
// Referer: it combines, in order, the request being a document itself, the
// source's page id (HAR pageref), Sec-Fetch-* headers, the Referer (full
// URL or origin) and the last page of the same client.
type Attributor struct {
	pages map[string]*Page // by page URL
	last  map[string]*Page // by client
	refs  map[string]*Page // by PageRef
}

// NewAttributor returns an empty Attributor.
func NewAttributor() *Attributor {
	return &Attributor{pages: map[string]*Page{}, last: map[string]*Page{}, refs: map[string]*Page{}}
}

// Attribute sets ex.Page when the source left it nil.
// TODO(attribution): the full algorithm lands with the HAR reader.
func (a *Attributor) Attribute(ex *Exchange) {
	if ex.Page != nil || ex.Request.URL == nil {
		return
	}
	if ex.IsDocument() {
		p := &Page{URL: ex.Request.URL.String(), Site: ex.Site(), By: "document"}
		a.pages[p.URL] = p
		a.last[ex.Client] = p
		if ex.PageRef != "" {
			a.refs[ex.PageRef] = p
		}
		ex.Page = p
		return
	}
	if p := a.refs[ex.PageRef]; ex.PageRef != "" && p != nil {
		ex.Page = p
		return
	}
	if p := a.last[ex.Client]; p != nil {
		ex.Page = &Page{URL: p.URL, Site: p.Site, Title: p.Title, By: "recent"}
	}
}
