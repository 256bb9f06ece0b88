package traffic

// Page is a first-party page: the top-level document a request belongs to.
type Page struct {
	// URL is the page's address. It is the full URL when the document
	// request or a full Referer was seen, and only the origin
	// ("https://news.example/") when that is all the evidence gave.
	URL string
	// Site is the registrable domain (eTLD+1) of URL's host.
	Site string
	// Title is the document title: the one the source gave (HAR pages),
	// else the <title> of the document's recorded HTML.
	Title string
	// By says how the request was tied to this page: "document" (it is the
	// page), "pageref", "referer", "initiator" (via a frame's own page),
	// "page-url" (a parameter carries the page's URL), "recent" (the last
	// page of the same client) or "contact" (a visit inferred from TLS and
	// DNS contacts).
	By string
}
