package onvif

// Typed SOAP bodies for the operations camgate sends, written by hand.
//
// Why not a generated ONVIF library: the Go ones get the wire format wrong
// in ways cameras reject (ptz-and-recording.md A.5). use-go/onvif always
// emits an empty <Timeout> (an invalid xs:duration) and space="", and a
// zero Speed on every GotoPreset; the IOTechSystems and kerberos-io forks
// tag the x/y attributes of Vector2D omitempty, so x="0" disappears and a
// zero-velocity stop becomes <PanTilt/>, though the schema marks x and y
// required. Here x and y are always written, Timeout and Speed are
// pointers or omitted, and no space attribute is ever sent (velocities and
// positions use the generic spaces, which a space attribute could only get
// wrong: SpaceNotSupported).

import (
	"encoding/xml"
	"math"
	"strconv"
)

// Namespaces.
const (
	nsSOAP = "http://www.w3.org/2003/05/soap-envelope"
	nsTDS  = "http://www.onvif.org/ver10/device/wsdl"
	nsTRT  = "http://www.onvif.org/ver10/media/wsdl"
	nsTPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
	nsTT   = "http://www.onvif.org/ver10/schema"
	nsWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWSU  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

	passwordDigestType = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	base64Encoding     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// num is an xs:float written in plain decimal (never "1e-07"), rounded to
// six places, without a negative zero.
type num float64

func (n num) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	f := math.Round(float64(n)*1e6) / 1e6
	if f == 0 {
		f = 0 // -0 becomes 0
	}
	return xml.Attr{Name: name, Value: strconv.FormatFloat(f, 'f', -1, 64)}, nil
}

// ---- requests ----

type envelope struct {
	XMLName xml.Name   `xml:"s:Envelope"`
	S       string     `xml:"xmlns:s,attr"`
	TDS     string     `xml:"xmlns:tds,attr"`
	TRT     string     `xml:"xmlns:trt,attr"`
	TPTZ    string     `xml:"xmlns:tptz,attr"`
	TT      string     `xml:"xmlns:tt,attr"`
	Header  *secHeader `xml:"s:Header,omitempty"`
	Body    struct {
		Content any
	} `xml:"s:Body"`
}

type secHeader struct {
	Security struct {
		WSSE           string `xml:"xmlns:wsse,attr"`
		WSU            string `xml:"xmlns:wsu,attr"`
		MustUnderstand string `xml:"s:mustUnderstand,attr"`
		Token          struct {
			Username string `xml:"wsse:Username"`
			Password struct {
				Type  string `xml:"Type,attr"`
				Value string `xml:",chardata"`
			} `xml:"wsse:Password"`
			Nonce struct {
				EncodingType string `xml:"EncodingType,attr"`
				Value        string `xml:",chardata"`
			} `xml:"wsse:Nonce"`
			Created string `xml:"wsu:Created"`
		} `xml:"wsse:UsernameToken"`
	} `xml:"wsse:Security"`
}

// vector2D is tt:Vector2D: x and y are required, so never omitted.
type vector2D struct {
	X num `xml:"x,attr"`
	Y num `xml:"y,attr"`
}

// vector1D is tt:Vector1D: x is required.
type vector1D struct {
	X num `xml:"x,attr"`
}

// ptzVector is tt:PTZVector / tt:PTZSpeed: an omitted axis is not touched.
type ptzVector struct {
	PanTilt *vector2D `xml:"tt:PanTilt,omitempty"`
	Zoom    *vector1D `xml:"tt:Zoom,omitempty"`
}

// Device service.

type getSystemDateAndTime struct {
	XMLName xml.Name `xml:"tds:GetSystemDateAndTime"`
}

type getCapabilities struct {
	XMLName  xml.Name `xml:"tds:GetCapabilities"`
	Category string   `xml:"tds:Category"`
}

type getServices struct {
	XMLName           xml.Name `xml:"tds:GetServices"`
	IncludeCapability bool     `xml:"tds:IncludeCapability"`
}

type sendAuxiliaryCommandDevice struct {
	XMLName          xml.Name `xml:"tds:SendAuxiliaryCommand"`
	AuxiliaryCommand string   `xml:"tds:AuxiliaryCommand"`
}

// Media service.

type getProfiles struct {
	XMLName xml.Name `xml:"trt:GetProfiles"`
}

// PTZ service.

type getNodes struct {
	XMLName xml.Name `xml:"tptz:GetNodes"`
}

type continuousMove struct {
	XMLName      xml.Name  `xml:"tptz:ContinuousMove"`
	ProfileToken string    `xml:"tptz:ProfileToken"`
	Velocity     ptzVector `xml:"tptz:Velocity"`
	Timeout      string    `xml:"tptz:Timeout,omitempty"` // whole seconds ("PT1S") or absent
}

type stop struct {
	XMLName      xml.Name `xml:"tptz:Stop"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
	PanTilt      bool     `xml:"tptz:PanTilt"`
	Zoom         bool     `xml:"tptz:Zoom"`
}

type relativeMove struct {
	XMLName      xml.Name  `xml:"tptz:RelativeMove"`
	ProfileToken string    `xml:"tptz:ProfileToken"`
	Translation  ptzVector `xml:"tptz:Translation"`
}

type absoluteMove struct {
	XMLName      xml.Name  `xml:"tptz:AbsoluteMove"`
	ProfileToken string    `xml:"tptz:ProfileToken"`
	Position     ptzVector `xml:"tptz:Position"`
}

type gotoHomePosition struct {
	XMLName      xml.Name `xml:"tptz:GotoHomePosition"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
}

type getPresets struct {
	XMLName      xml.Name `xml:"tptz:GetPresets"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
}

type gotoPreset struct {
	XMLName      xml.Name `xml:"tptz:GotoPreset"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
	PresetToken  string   `xml:"tptz:PresetToken"`
}

type setPreset struct {
	XMLName      xml.Name `xml:"tptz:SetPreset"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
	PresetName   string   `xml:"tptz:PresetName,omitempty"`
	PresetToken  string   `xml:"tptz:PresetToken,omitempty"`
}

type removePreset struct {
	XMLName      xml.Name `xml:"tptz:RemovePreset"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
	PresetToken  string   `xml:"tptz:PresetToken"`
}

type sendAuxiliaryCommandPTZ struct {
	XMLName       xml.Name `xml:"tptz:SendAuxiliaryCommand"`
	ProfileToken  string   `xml:"tptz:ProfileToken"`
	AuxiliaryData string   `xml:"tptz:AuxiliaryData"`
}

type getStatus struct {
	XMLName      xml.Name `xml:"tptz:GetStatus"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
}

// ---- responses (matched by local name, whatever the prefix) ----

type getSystemDateAndTimeResponse struct {
	SystemDateAndTime struct {
		UTCDateTime *struct {
			Date struct{ Year, Month, Day int }
			Time struct{ Hour, Minute, Second int }
		}
	}
}

type getCapabilitiesResponse struct {
	Capabilities struct {
		Media struct{ XAddr string }
		PTZ   struct{ XAddr string }
	}
}

type getServicesResponse struct {
	Service []struct {
		Namespace string
		XAddr     string
	}
}

type getProfilesResponse struct {
	Profiles []struct {
		Token            string `xml:"token,attr"`
		Name             string
		PTZConfiguration *struct {
			NodeToken                          string
			DefaultContinuousZoomVelocitySpace string
		}
	}
}

type space struct {
	URI string
}

type getNodesResponse struct {
	PTZNode []ptzNode
}

type ptzNode struct {
	Token              string `xml:"token,attr"`
	SupportedPTZSpaces struct {
		AbsolutePanTiltPositionSpace    []space
		AbsoluteZoomPositionSpace       []space
		RelativePanTiltTranslationSpace []space
		RelativeZoomTranslationSpace    []space
		ContinuousPanTiltVelocitySpace  []space
		ContinuousZoomVelocitySpace     []space
	}
	MaximumNumberOfPresets *int
	HomeSupported          *bool
	AuxiliaryCommands      []string
}

type getPresetsResponse struct {
	Preset []struct {
		Token string `xml:"token,attr"`
		Name  string
	}
}

type setPresetResponse struct {
	PresetToken string
}

type getStatusResponse struct {
	PTZStatus struct {
		Position struct {
			PanTilt *struct {
				X float64 `xml:"x,attr"`
				Y float64 `xml:"y,attr"`
			}
			Zoom *struct {
				X float64 `xml:"x,attr"`
			}
		}
		MoveStatus struct {
			PanTilt string
			Zoom    string
		}
	}
}

// empty is the response of operations that return nothing.
type empty struct{}
