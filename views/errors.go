package views

// Messages shown when Kinde (or another dependency) does not answer.
const (
	// KindeUnavailableMessage is the standard wording when Kinde did not answer.
	KindeUnavailableMessage = "Kinde did not answer. Nothing was changed. Try again in a minute."
	// InternalErrorMessage is the standard wording for an unexpected failure.
	InternalErrorMessage = "Something went wrong on our side. Nothing was changed. Please try again."
)

// ErrorFor returns the error page for an HTTP status with its standard
// title, message and way back. The caller sets Shell and may replace the
// message with a more specific, user-safe one.
func ErrorFor(status int) ErrorPage {
	p := ErrorPage{Status: status, BackURL: "/", BackLabel: "Go to the start page"}
	switch status {
	case 400:
		p.Title = "That request did not look right"
		p.Message = "Something in the link or the form was not what we expected. Nothing was changed. Go back and try again."
	case 401:
		p.Title = "Please sign in"
		p.Message = "You need to sign in to see this page. Nothing was changed."
		p.BackURL, p.BackLabel = "/auth/login", "Sign in"
	case 403:
		p.Title = "You don't have access to this page"
		p.Message = "Your roles in this club do not include this page. Nothing was changed. If you think you need it, ask a club owner."
		p.BackURL, p.BackLabel = "/club", "Back to your club"
	case 404:
		p.Title = "Page not found"
		p.Message = "We could not find that page or member. It may have been removed. Nothing was changed."
		p.BackURL, p.BackLabel = "/club", "Back to your club"
	case 409:
		p.Title = "That clashed with another change"
		p.Message = "Someone changed this at the same time. Nothing was changed by your request. Reload the page and try again."
		p.BackURL, p.BackLabel = "/members", "Back to members"
	case 422:
		p.Title = "Check what you entered"
		p.Message = "Some of what you entered could not be used. Nothing was changed. Go back, fix it and try again."
	case 429, 502, 503, 504:
		p.Title = "Kinde did not answer"
		p.Message = KindeUnavailableMessage
		p.BackURL, p.BackLabel = "/club", "Back to your club"
	default:
		p.Title = "Something went wrong"
		p.Message = InternalErrorMessage
	}
	return p
}
