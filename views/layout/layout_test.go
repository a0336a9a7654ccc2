package layout

import (
	"bytes"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(templ.WithNonce(t.Context(), "abc"), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func TestClubSwitcher(t *testing.T) {
	tests := []struct {
		name        string
		clubs       []ClubLink
		wantMenu    bool
		wantLinks   int
		wantCurrent string
	}{
		{"none", nil, false, 0, ""},
		{"one", []ClubLink{{Name: "Riverside", SwitchURL: "/auth/switch?org_code=a", Current: true}}, false, 0, ""},
		{"three", []ClubLink{
			{Name: "Hilltop", SwitchURL: "/auth/switch?org_code=b"},
			{Name: "Riverside", SwitchURL: "/auth/switch?org_code=a", Current: true},
			{Name: "Lakeside", SwitchURL: "/auth/switch?org_code=c"},
		}, true, 2, "Riverside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, ClubSwitcher("Riverside", tt.clubs))
			sw := doc.Find(`[data-testid="club-switcher"]`)
			if sw.Length() != 1 {
				t.Fatal("no switcher")
			}
			if got := sw.Is("details"); got != tt.wantMenu {
				t.Errorf("menu = %v, want %v", got, tt.wantMenu)
			}
			if got := sw.Find("a").Length(); got != tt.wantLinks {
				t.Errorf("links = %d, want %d", got, tt.wantLinks)
			}
			cur := sw.Find(`[aria-current="true"]`)
			if tt.wantCurrent != "" && !strings.HasPrefix(strings.TrimSpace(cur.Text()), tt.wantCurrent) {
				t.Errorf("current = %q, want %q", cur.Text(), tt.wantCurrent)
			}
		})
	}
}

func TestFlashes(t *testing.T) {
	flashes := []Flash{{Kind: FlashSuccess, Text: "Saved."}, {Kind: "weird", Text: "Hm."}, {Kind: FlashError, Text: "No."}}
	doc := render(t, Flashes(flashes))
	items := doc.Find(`#flashes [data-testid="flash"]`)
	if items.Length() != 3 {
		t.Fatalf("flashes = %d", items.Length())
	}
	var kinds []string
	items.Each(func(_ int, s *goquery.Selection) { k, _ := s.Attr("data-kind"); kinds = append(kinds, k) })
	if strings.Join(kinds, ",") != "success,info,error" {
		t.Errorf("kinds = %v (an unknown kind must read as info)", kinds)
	}
	if live, _ := doc.Find("#flashes").Attr("aria-live"); live != "polite" {
		t.Errorf("aria-live = %q", live)
	}

	oob := render(t, FlashesOOB(flashes[:1]))
	el := oob.Find(`template > #flashes`)
	if swap, _ := el.Attr("hx-swap-oob"); swap != "innerHTML" {
		t.Errorf("hx-swap-oob = %q, want innerHTML (keeps the live region)", swap)
	}
	if strings.TrimSpace(el.Text()) != "Saved." {
		t.Errorf("oob text = %q", el.Text())
	}
}

func TestDocumentTitle(t *testing.T) {
	tests := []struct {
		p    ShellProps
		want string
	}{
		{ShellProps{}, "Clubhouse"},
		{ShellProps{Title: "Members", ClubName: "Riverside"}, "Members · Riverside · Clubhouse"},
		{ShellProps{Title: "Riverside", ClubName: "Riverside"}, "Riverside · Clubhouse"},
		{ShellProps{ClubName: "Riverside"}, "Riverside · Clubhouse"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.documentTitle(); got != tt.want {
				t.Errorf("title = %q, want %q", got, tt.want)
			}
		})
	}
}
