//! The call-control port: commands Stratus gives to the call platform (Microsoft Graph) and the
//! call events it hears back, in domain terms. Graph wire types never cross this line.

use super::BoxFuture;
use crate::ids::{CallId, M365TenantId, OfferId, TaskId, TenantId, UserId};
use crate::task::TransferTarget;
use std::time::Duration;

/// What to play to the caller.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Prompt {
    /// Text to speech.
    Text(String),
    /// An audio file URL.
    Audio(String),
}

impl Prompt {
    /// A configured announcement: an `http(s)` URL is an audio file, anything else is text to
    /// speak.
    pub fn from_setting(s: &str) -> Prompt {
        if s.starts_with("https://") || s.starts_with("http://") {
            Prompt::Audio(s.to_string())
        } else {
            Prompt::Text(s.to_string())
        }
    }
}

/// How an agent is rung.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RingMode {
    /// Direct Conference and Broadcast: invite the agent into the caller's call.
    Invite,
    /// Direct: a separate P2P leg to the agent, bridged into the caller's call once answered.
    Leg,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RejectReason {
    Busy,
    None,
    Forbidden,
}

/// One action on one call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CallAction {
    /// Answer the incoming call (service-hosted media), pre-fetching the prompts.
    Answer {
        prefetch: Vec<Prompt>,
    },
    PlayPrompt {
        prompt: Prompt,
    },
    /// Collect up to `max_digits` DTMF digits (subscribe to tones).
    CollectDigits {
        prompt: Option<Prompt>,
        max_digits: u8,
        timeout: Duration,
    },
    CancelMedia,
    /// Ring an agent for an offer. The ring timer is the core's, not the platform's.
    RingAgent {
        offer: OfferId,
        user: UserId,
        mode: RingMode,
    },
    /// Withdraw a ringing offer (cancel the invitation or delete the leg).
    CancelRing {
        offer: OfferId,
        user: UserId,
    },
    /// Remove an agent who joined but lost the race (Broadcast, same instant).
    RemoveAgent {
        offer: OfferId,
        user: UserId,
    },
    /// Direct: move the answered leg into the caller's call.
    Bridge {
        offer: OfferId,
        user: UserId,
    },
    /// Blind transfer: the task leaves Stratus (external number, user outside routing).
    Transfer {
        target: TransferTarget,
    },
    Reject {
        reason: RejectReason,
    },
    HangUp,
    KeepAlive,
}

impl CallAction {
    /// A stable snake-case name, for metrics labels, spans and logs.
    pub fn name(&self) -> &'static str {
        match self {
            CallAction::Answer { .. } => "answer",
            CallAction::PlayPrompt { .. } => "play_prompt",
            CallAction::CollectDigits { .. } => "collect_digits",
            CallAction::CancelMedia => "cancel_media",
            CallAction::RingAgent { .. } => "ring_agent",
            CallAction::CancelRing { .. } => "cancel_ring",
            CallAction::RemoveAgent { .. } => "remove_agent",
            CallAction::Bridge { .. } => "bridge",
            CallAction::Transfer { .. } => "transfer",
            CallAction::Reject { .. } => "reject",
            CallAction::HangUp => "hang_up",
            CallAction::KeepAlive => "keep_alive",
        }
    }
}

/// A command for one call of one tenant.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CallCommand {
    pub tenant: TenantId,
    pub m365_tenant: M365TenantId,
    pub call: CallId,
    pub task: TaskId,
    pub action: CallAction,
}

/// Why the platform refused or failed a command.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum CallControlError {
    #[error("the call is gone")]
    CallGone,
    #[error("throttled; retry after {0:?}")]
    Throttled(Duration),
    #[error("rejected with status {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("transport failure: {0}")]
    Transport(String),
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// Executes call commands. Implementations retry what is safe to retry; the outcome of an
/// accepted command arrives later as [`CallEvent`]s.
pub trait CallControl: Send + Sync + 'static {
    fn execute(&self, cmd: CallCommand) -> BoxFuture<'_, Result<(), CallControlError>>;
}

/// Who is calling.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CallerInfo {
    /// Entra object id of a Teams caller.
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// E.164 number of a PSTN caller.
    pub number: Option<String>,
    pub upn: Option<String>,
    pub anonymous: bool,
}

/// Why an agent leg or invitation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LegFailure {
    Declined,
    Busy,
    Unreachable,
    NoAnswer,
    Other(u16),
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CallEventKind {
    /// A new call for a service. `target` is the resource account (application instance) id.
    Incoming {
        m365_tenant: M365TenantId,
        target: String,
        caller: CallerInfo,
        call_chain_id: Option<String>,
    },
    Established,
    /// Direct: the agent answered the separate leg.
    LegEstablished {
        user: UserId,
    },
    /// The agent joined the caller's call.
    AgentJoined {
        user: UserId,
    },
    AgentLeft {
        user: UserId,
    },
    AgentFailed {
        user: UserId,
        cause: LegFailure,
    },
    PromptDone,
    Tone {
        digit: char,
    },
    TransferAccepted,
    TransferCompleted,
    TransferFailed {
        code: u16,
    },
    /// The call ended (caller hung up, or the platform ended it).
    Terminated {
        code: u16,
    },
}

/// A call event, addressed by call id.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CallEvent {
    pub call: CallId,
    pub kind: CallEventKind,
}
