package kindespec

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jsonUnmarshal decodes JSON numbers as float64, as schema validation expects.
func jsonUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("kindespec: body is not JSON: %w", err)
	}
	return nil
}
