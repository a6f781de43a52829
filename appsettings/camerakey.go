package appsettings

import "strings"

// CameraKey is the canonical form of a camera's or a stream's Id. Ids are
// GUIDs, which settings, clients and the folders of the recording store may
// write in any case: two Ids name the same camera (or stream) exactly when
// their keys are equal. Settings and the API keep each Id as it was
// written, for display; every lookup and comparison of Ids goes through
// KeyOf, the one place that decides what "the same Id" means.
type CameraKey string

// KeyOf returns the key of a camera or stream Id: the Id in lower case.
func KeyOf(id string) CameraKey { return CameraKey(strings.ToLower(id)) }
