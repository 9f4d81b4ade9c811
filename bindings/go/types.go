package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"encoding/json"
	"fmt"
)

// ChannelKind is what a channel carries (vc_channel_kind).
type ChannelKind int

const (
	Email ChannelKind = 1
	SMS   ChannelKind = 2
	Chat  ChannelKind = 3
	Voice ChannelKind = 4
)

func (k ChannelKind) String() string {
	return C.GoString(C.vc_channel_kind_name(C.int(k)))
}

// Category is what a message or call is about, for consent and quiet
// hours (vc_category). 0 in a spec means the default.
type Category int

const (
	Transactional Category = 1
	Marketing     Category = 2
	OTP           Category = 3
)

func (c Category) String() string {
	if s := C.vc_category_name(C.int(c)); s != nil {
		return C.GoString(s)
	}
	return fmt.Sprintf("category(%d)", int(c))
}

// MessageStatus is a message's status (vc_msg_status); it only moves
// forward.
type MessageStatus int

const (
	Queued      MessageStatus = 1
	Sending     MessageStatus = 2
	Sent        MessageStatus = 3
	Delivered   MessageStatus = 4
	Read        MessageStatus = 5
	Failed      MessageStatus = 6
	Undelivered MessageStatus = 7
	Bounced     MessageStatus = 8
	Canceled    MessageStatus = 9
)

func (s MessageStatus) String() string {
	return C.GoString(C.vc_message_status_name(C.int(s)))
}

// CallState is a call's state (vc_call_state).
type CallState int

const (
	CallInitiated       CallState = 1
	CallAgentRinging    CallState = 2
	CallAgentAnswered   CallState = 3
	CallCustomerRinging CallState = 4
	CallBridged         CallState = 5
	CallCompleted       CallState = 6
	CallFailed          CallState = 7
	CallBusy            CallState = 8
	CallNoAnswer        CallState = 9
	CallCanceled        CallState = 10
)

func (s CallState) String() string {
	return C.GoString(C.vc_call_state_name(C.int(s)))
}

// Final reports whether the state is terminal.
func (s CallState) Final() bool { return C.vc_call_state_final(C.int(s)) != 0 }

// RecordMode is whether a call is recorded (vc_record_mode).
type RecordMode int

const (
	RecordDefault  RecordMode = 0
	RecordOff      RecordMode = 1
	RecordAlways   RecordMode = 2
	RecordOnDemand RecordMode = 3
)

// CampaignState is a campaign's state (vc_campaign_lifecycle).
type CampaignState int

const (
	CampaignDraft     CampaignState = 1
	CampaignRunning   CampaignState = 2
	CampaignPaused    CampaignState = 3
	CampaignCompleted CampaignState = 4
	CampaignCanceled  CampaignState = 5
)

func (s CampaignState) String() string {
	return C.GoString(C.vc_campaign_state_name(C.int(s)))
}

// Audience is where a campaign's recipients come from.
type Audience int

const (
	AudienceList Audience = 1
	AudienceTag  Audience = 2
)

// ConsentState is a contact's consent (vc_consent).
type ConsentState int

const (
	ConsentUnknown  ConsentState = 0
	ConsentOptedIn  ConsentState = 1
	ConsentOptedOut ConsentState = 2
)

func (s ConsentState) String() string {
	if n := C.vc_consent_name(C.int(s)); n != nil {
		return C.GoString(n)
	}
	return fmt.Sprintf("consent(%d)", int(s))
}

// AddressKind is the kind of a contact's address (vc_address_kind).
type AddressKind int

const (
	AddressPhone    AddressKind = 1
	AddressEmail    AddressKind = 2
	AddressTelegram AddressKind = 3
	AddressWhatsApp AddressKind = 4
)

func (k AddressKind) String() string {
	switch k {
	case AddressPhone:
		return "phone"
	case AddressEmail:
		return "email"
	case AddressTelegram:
		return "telegram"
	case AddressWhatsApp:
		return "whatsapp"
	}
	return fmt.Sprintf("address(%d)", int(k))
}

// jsonArg turns a JSON argument into text: nil is "" (not set); a
// string, []byte or json.RawMessage is taken as JSON text as it is;
// anything else is marshalled with encoding/json.
func jsonArg(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case json.RawMessage:
		return string(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", goError(codeInvalid, "cannot marshal JSON: "+err.Error())
	}
	return string(b), nil
}
