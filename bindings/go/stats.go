package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"encoding/json"
	"time"
	"unsafe"
)

// StatsGranularity is the bucket of a series (vc_stats_granularity).
type StatsGranularity int

const (
	StatsHour StatsGranularity = 1 // one point per UTC hour
	StatsDay  StatsGranularity = 2 // one point per UTC day
)

// StatsSection is a set of sections of a stats answer
// (vc_stats_section bits).
type StatsSection uint

const (
	StatsMessages  StatsSection = 1 << 0
	StatsLatency   StatsSection = 1 << 1
	StatsCampaigns StatsSection = 1 << 2
	StatsCalls     StatsSection = 1 << 3
	StatsCosts     StatsSection = 1 << 4
	StatsInbound   StatsSection = 1 << 5
	StatsAll       StatsSection = 1<<6 - 1
)

// StatsQuery is what Stats reports (vc_stats_spec).
type StatsQuery struct {
	// From (included) and To (excluded): whole UTC hours; required. At
	// most 31 days hourly, 400 days daily.
	From, To    time.Time
	Granularity StatsGranularity // 0 = hourly
	What        StatsSection     // 0 = every section
	ChannelID   string           // only this channel
	CampaignID  string           // only this campaign (no calls, no inbound)
}

// StatsJSON is the library's JSON document for q as it is
// (docs/analytics.md describes it). ErrInvalid (a member of q out of
// range: the message names it), ErrNotFound (a channel or campaign not
// the tenant's).
func (t *Tenant) StatsJSON(q StatsQuery) (string, error) {
	if q.From.IsZero() || q.To.IsZero() {
		return "", goError(codeInvalid, "StatsQuery: From and To are required")
	}
	tp, err := t.acquire()
	if err != nil {
		return "", err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var s C.vc_stats_spec
	C.vc_stats_spec_init(&s, C.VC_STATS_SPEC_VERSION)
	s.from = C.int64_t(q.From.UnixMilli())
	s.to = C.int64_t(q.To.UnixMilli())
	if q.Granularity != 0 {
		s.granularity = C.int(q.Granularity)
	}
	if q.What != 0 {
		s.what = C.uint(q.What)
	}
	s.channel_id = a.str(q.ChannelID)
	s.campaign_id = a.str(q.CampaignID)
	if a.err != nil {
		return "", a.err
	}
	// In C memory, as Template.Render's buffer.
	buf := (*C.vc_buf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vc_buf{}))))
	defer C.free(unsafe.Pointer(buf))
	defer C.vc_buf_dispose(buf)
	var e C.vcgo_err
	if rc := C.vcgo_stats_query(buf, tp, &s, &e); rc < 0 {
		return "", errorFrom(rc, &e)
	}
	return C.GoStringN(buf.ptr, C.int(buf.size)), nil
}

// Stats is a tenant's figures over q's window, parsed from StatsJSON's
// document. A section not asked for (or left out by a campaign filter)
// is nil.
func (t *Tenant) Stats(q StatsQuery) (*Stats, error) {
	doc, err := t.StatsJSON(q)
	if err != nil {
		return nil, err
	}
	var s Stats
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return nil, goError(codeCorrupt, "cannot parse the stats document: "+err.Error())
	}
	s.Raw = json.RawMessage(doc)
	return &s, nil
}

// UnixMilli is a time in the stats document: Unix milliseconds, UTC.
type UnixMilli int64

// Time converts it.
func (m UnixMilli) Time() time.Time { return time.UnixMilli(int64(m)) }

// Stats is the answer of Tenant.Stats. Raw keeps the whole document, so
// members a newer library adds stay reachable.
type Stats struct {
	From               UnixMilli       `json:"from"`
	To                 UnixMilli       `json:"to"`
	Granularity        string          `json:"granularity"` // "hour", "day"
	ChannelID          string          `json:"channel_id"`
	CampaignID         string          `json:"campaign_id"`
	Messages           *MessageStats   `json:"messages"`
	DeliveryRate       *float64        `json:"delivery_rate"`
	Latency            *LatencyStats   `json:"latency_ms"`
	Inbound            *InboundStats   `json:"inbound"`
	Campaigns          []CampaignStats `json:"campaigns"`
	CampaignsTruncated bool            `json:"campaigns_truncated"`
	Calls              *CallStats      `json:"calls"`
	Costs              *CostStats      `json:"costs"`
	Raw                json.RawMessage `json:"-"`
}

// StatusCounts are moves of messages into each status (a message counts
// in the hour of each move; Read is a subset of Delivered).
type StatusCounts struct {
	Queued      int64 `json:"queued"`
	Sent        int64 `json:"sent"`
	Delivered   int64 `json:"delivered"`
	Read        int64 `json:"read"`
	Failed      int64 `json:"failed"`
	Undelivered int64 `json:"undelivered"`
	Bounced     int64 `json:"bounced"`
	Canceled    int64 `json:"canceled"`
}

// MessageStats is the messages section.
type MessageStats struct {
	ByStatus           StatusCounts      `json:"by_status"`
	ByKind             []KindMessages    `json:"by_kind"`
	ByChannel          []ChannelMessages `json:"by_channel"`
	ByChannelTruncated bool              `json:"by_channel_truncated"`
	ByProvider         []ProviderMessage `json:"by_provider"`
	Series             []MessagePoint    `json:"series"`
}

// KindMessages are the counts of one channel kind ("sms", "email", ...).
type KindMessages struct {
	Kind string `json:"kind"`
	StatusCounts
}

// ChannelMessages are the counts of one channel ("" = not routed yet),
// with its current name and provider.
type ChannelMessages struct {
	ChannelID string `json:"channel_id"`
	Name      string `json:"name"`
	Provider  string `json:"provider"`
	StatusCounts
}

// ProviderMessage are the counts of one provider (adapter).
type ProviderMessage struct {
	Provider string `json:"provider"`
	StatusCounts
}

// MessagePoint is one point of the message series: the hour or UTC day
// starting at T.
type MessagePoint struct {
	T UnixMilli `json:"t"`
	StatusCounts
}

// LatencyStats is queued-to-delivered latency in milliseconds; the
// percentiles are bucket upper bounds, nil when nothing was delivered
// or past a day.
type LatencyStats struct {
	Delivered int64           `json:"delivered"`
	Mean      *float64        `json:"mean"`
	P50       *int64          `json:"p50"`
	P90       *int64          `json:"p90"`
	P99       *int64          `json:"p99"`
	Histogram []LatencyBucket `json:"histogram"`
}

// LatencyBucket counts messages delivered within LE ms (nil: past the
// last bound).
type LatencyBucket struct {
	LE *int64 `json:"le"`
	N  int64  `json:"n"`
}

// InboundStats is the inbound section.
type InboundStats struct {
	Total              int64          `json:"total"`
	ByChannel          []ChannelCount `json:"by_channel"`
	ByChannelTruncated bool           `json:"by_channel_truncated"`
	Series             []CountPoint   `json:"series"`
}

// ChannelCount is the inbound messages of one channel.
type ChannelCount struct {
	ChannelID string `json:"channel_id"`
	Name      string `json:"name"`
	Provider  string `json:"provider"`
	N         int64  `json:"n"`
}

// CountPoint is one point of a series of counts.
type CountPoint struct {
	T UnixMilli `json:"t"`
	N int64     `json:"n"`
}

// CampaignStats is a campaign's funnel over its whole life.
type CampaignStats struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	State        string         `json:"state"`
	CreatedAt    UnixMilli      `json:"created_at"`
	Funnel       CampaignFunnel `json:"funnel"`
	DeliveryRate *float64       `json:"delivery_rate"`
}

// CampaignFunnel is a campaign's counters as the stats document gives
// them.
type CampaignFunnel struct {
	Total          int64 `json:"total"`
	Queued         int64 `json:"queued"`
	Sent           int64 `json:"sent"`
	Delivered      int64 `json:"delivered"`
	Failed         int64 `json:"failed"`
	Canceled       int64 `json:"canceled"`
	SkippedConsent int64 `json:"skipped_consent"`
	SkippedAddress int64 `json:"skipped_address"`
	DeferredQuiet  int64 `json:"deferred_quiet"`
	Expired        int64 `json:"expired"`
	Open           int64 `json:"open"`
}

// CallFigures: attempts (calls that ended in the window), answered
// (bridged) ones, talk and handle seconds, and their ratios (nil when
// there is nothing to divide).
type CallFigures struct {
	Attempts   int64    `json:"attempts"`
	Answered   int64    `json:"answered"`
	AnswerRate *float64 `json:"answer_rate"`
	TalkS      int64    `json:"talk_s"`
	HandleS    int64    `json:"handle_s"`
	AvgTalkS   *float64 `json:"avg_talk_s"`
	AvgHandleS *float64 `json:"avg_handle_s"`
}

// CallStats is the calls section.
type CallStats struct {
	CallFigures
	ByOutcome        map[string]int64 `json:"by_outcome"` // final state name
	ByAgent          []AgentCalls     `json:"by_agent"`
	ByAgentTruncated bool             `json:"by_agent_truncated"`
	Series           []CallPoint      `json:"series"`
}

// AgentCalls are one agent's calls ("" agent: calls without one).
type AgentCalls struct {
	AgentID string `json:"agent_id"`
	Name    string `json:"name"`
	CallFigures
}

// CallPoint is one point of the call series.
type CallPoint struct {
	T        UnixMilli `json:"t"`
	Attempts int64     `json:"attempts"`
	Answered int64     `json:"answered"`
}

// CostStats is the costs section: amounts in micro-units per currency
// (never added across currencies), and every row.
type CostStats struct {
	ByCurrency    []CurrencyAmount `json:"by_currency"`
	Rows          []CostRow        `json:"rows"`
	RowsTruncated bool             `json:"rows_truncated"`
}

// CurrencyAmount is a total in one currency.
type CurrencyAmount struct {
	Currency     string `json:"currency"`
	AmountMicros int64  `json:"amount_micros"`
}

// CostRow is ledger amounts, net of reversals, for one source, channel,
// provider, campaign and currency.
type CostRow struct {
	Source       string `json:"source"`
	ChannelID    string `json:"channel_id"`
	Provider     string `json:"provider"`
	CampaignID   string `json:"campaign_id"`
	Currency     string `json:"currency"`
	AmountMicros int64  `json:"amount_micros"`
}
