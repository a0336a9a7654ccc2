package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// TestCSPSafe checks every view against the portal's Content-Security-
// Policy: scripts only from files and with the request's nonce, no inline
// styles, no inline event handlers, no htmx attributes that need eval.
func TestCSPSafe(t *testing.T) {
	for _, v := range everyView(t) {
		t.Run(v.name, func(t *testing.T) {
			doc := render(t, v.c)
			doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				src, hasSrc := s.Attr("src")
				if !hasSrc || src == "" {
					t.Errorf("inline <script>: %q", s.Text())
				}
				if nonce, _ := s.Attr("nonce"); nonce != testNonce {
					t.Errorf("<script src=%q> nonce = %q, want the request's", src, nonce)
				}
			})
			if n := doc.Find("style").Length(); n > 0 {
				t.Errorf("%d <style> elements", n)
			}
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					name := strings.ToLower(a.Key)
					switch {
					case name == "style":
						t.Errorf("<%s style=%q>", goquery.NodeName(s), a.Val)
					case strings.HasPrefix(name, "on"):
						t.Errorf("<%s %s=%q>: inline handler", goquery.NodeName(s), a.Key, a.Val)
					case strings.HasPrefix(name, "hx-on"), strings.HasPrefix(name, "data-hx-on"):
						t.Errorf("<%s %s>: hx-on needs eval", goquery.NodeName(s), a.Key)
					case name == "hx-vals" && strings.Contains(a.Val, "js:"), name == "hx-vars":
						t.Errorf("<%s %s>: needs eval", goquery.NodeName(s), a.Key)
					case strings.HasPrefix(name, "hx-trigger") && strings.Contains(a.Val, "["):
						t.Errorf("<%s hx-trigger=%q>: trigger filters need eval", goquery.NodeName(s), a.Val)
					case (name == "href" || name == "action" || name == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
						t.Errorf("<%s %s=%q>", goquery.NodeName(s), a.Key, a.Val)
					}
				}
			})
			if doc.Find(`link[href^="http"], script[src^="http"], img[src^="http"]`).Length() > 0 {
				t.Error("an asset is loaded from another origin")
			}
		})
	}
}

// TestAccessible checks what a screen-reader or keyboard user relies on:
// every control has a label, ids are unique, tables have column headers,
// and a full page has one h1, a main landmark and a language.
func TestAccessible(t *testing.T) {
	for _, v := range everyView(t) {
		t.Run(v.name, func(t *testing.T) {
			htmlText := renderHTML(t, v.c)
			doc := render(t, v.c)
			if strings.HasPrefix(htmlText, "<!doctype html>") {
				if n := doc.Find("h1").Length(); n != 1 {
					t.Errorf("%d h1 elements, want 1", n)
				}
				if doc.Find("main#main").Length() != 1 {
					t.Error("no <main id=main>")
				}
				if lang, _ := doc.Find("html").Attr("lang"); lang == "" {
					t.Error("no lang")
				}
				if doc.Find(`a.skip-link[href="#main"]`).Length() != 1 {
					t.Error("no skip link")
				}
			}
			ids := map[string]int{}
			doc.Find("[id]").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				if s.ParentsFiltered("template").Length() == 0 {
					ids[id]++
				}
			})
			for id, n := range ids {
				if n > 1 {
					t.Errorf("id %q used %d times", id, n)
				}
			}
			doc.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
				if typ, _ := s.Attr("type"); typ == "hidden" {
					return
				}
				if hasLabel(doc, s) {
					return
				}
				name, _ := s.Attr("name")
				t.Errorf("<%s name=%q> has no label", goquery.NodeName(s), name)
			})
			doc.Find("button").Each(func(_ int, s *goquery.Selection) {
				if strings.TrimSpace(s.Text()) == "" {
					if l, _ := s.Attr("aria-label"); l == "" {
						t.Error("a button has no text")
					}
				}
			})
			doc.Find("summary").Each(func(_ int, s *goquery.Selection) {
				if strings.TrimSpace(visibleText(s)) == "" {
					if l, _ := s.Attr("aria-label"); l == "" {
						t.Error("a menu toggle has no name")
					}
				}
			})
			doc.Find("table").Each(func(_ int, tbl *goquery.Selection) {
				ths := tbl.Find("thead th")
				if ths.Length() == 0 {
					t.Error("a table has no column headers")
				}
				ths.Each(func(_ int, th *goquery.Selection) {
					if scope, _ := th.Attr("scope"); scope != "col" {
						t.Errorf("th %q has scope %q", strings.TrimSpace(th.Text()), scope)
					}
				})
			})
			doc.Find("img").Each(func(_ int, s *goquery.Selection) {
				if _, ok := s.Attr("alt"); !ok {
					t.Error("an image has no alt")
				}
			})
			doc.Find("iframe").Each(func(_ int, s *goquery.Selection) {
				if title, _ := s.Attr("title"); title == "" {
					t.Error("a frame has no title")
				}
			})
		})
	}
}

func hasLabel(doc *goquery.Document, s *goquery.Selection) bool {
	if l, _ := s.Attr("aria-label"); l != "" {
		return true
	}
	if s.ParentsFiltered("label").Length() > 0 {
		return true
	}
	id, _ := s.Attr("id")
	if id == "" {
		return false
	}
	found := false
	doc.Find("label").Each(func(_ int, l *goquery.Selection) {
		if f, _ := l.Attr("for"); f == id && strings.TrimSpace(l.Text()) != "" {
			found = true
		}
	})
	return found
}

// visibleText is the text of s without aria-hidden parts.
func visibleText(s *goquery.Selection) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "aria-hidden" && a.Val == "true" {
					return
				}
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range s.Nodes {
		walk(n)
	}
	return b.String()
}

// TestFormsWorkWithoutJavaScript checks that every htmx form or link is
// also a plain form or link: htmx only enhances.
func TestFormsWorkWithoutJavaScript(t *testing.T) {
	for _, v := range everyView(t) {
		t.Run(v.name, func(t *testing.T) {
			doc := render(t, v.c)
			doc.Find("[hx-post]").Each(func(_ int, s *goquery.Selection) {
				hx, _ := s.Attr("hx-post")
				if !s.Is("form") {
					t.Errorf("hx-post=%q on a <%s>, not a form", hx, goquery.NodeName(s))
					return
				}
				method, _ := s.Attr("method")
				action, _ := s.Attr("action")
				if method != "post" || action != hx {
					t.Errorf("form hx-post=%q has method=%q action=%q", hx, method, action)
				}
				if d, _ := s.Attr("hx-disabled-elt"); d == "" {
					t.Errorf("form hx-post=%q does not disable its button while pending", hx)
				}
			})
			doc.Find("[hx-get]").Each(func(_ int, s *goquery.Selection) {
				hx, _ := s.Attr("hx-get")
				switch {
				case s.Is("a"):
					if href, _ := s.Attr("href"); href != hx {
						t.Errorf("link hx-get=%q has href=%q", hx, href)
					}
				case s.Is("form"):
					if action, _ := s.Attr("action"); action != hx {
						t.Errorf("form hx-get=%q has action=%q", hx, action)
					}
				case s.Is("input"):
					if s.ParentsFiltered("form").Length() == 0 {
						t.Errorf("input hx-get=%q is not in a form", hx)
					}
				default:
					t.Errorf("hx-get on a <%s>", goquery.NodeName(s))
				}
				if tgt, _ := s.Attr("hx-target"); tgt == "" {
					t.Errorf("hx-get=%q has no hx-target", hx)
				}
			})
			doc.Find("form").Each(func(_ int, s *goquery.Selection) {
				method, _ := s.Attr("method")
				switch method {
				case "get", "post", "dialog":
				default:
					t.Errorf("form has method %q", method)
				}
			})
		})
	}
}
