//! The TCP side: connections admitted under the connection limits, one task per connection,
//! the handshake first, then one reply per message; every failure answered with a reason (where
//! the peer can still hear it) and logged, never affecting other connections.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy_primitives::B256;
use bp_backend::{check_identity, Proof, ProofType};
use bp_program::ProgramOutput;
use bp_protocol::{
    Assignment, Heartbeat, HeartbeatAck, Message, ProtocolError, RejectReason, Rejection, Request, Session, Submission,
    SubmitAck,
};
use tokio::net::{TcpListener, TcpStream};

use tokio_util::sync::CancellationToken;

use crate::{connections::Slot, source::now_ms, store::StoredProof, Coordinator, Expected};

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection { reason, detail: detail.into() }
}

pub(crate) async fn serve(coordinator: Arc<Coordinator>, listener: TcpListener, stop: CancellationToken) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // At a connection limit the oldest connection still in its handshake makes room; where
        // none is, the new one is closed unread and unanswered: refusing costs no more than
        // accepting.
        let slot = match coordinator.connections.admit(peer.ip()) {
            Ok((slot, evicted)) => {
                if let Some(limit) = evicted {
                    coordinator.metrics().connection_evicted(limit);
                    tracing::debug!(%peer, limit = limit.name(), "an unauthenticated connection closed to make room");
                }
                slot
            }
            Err(refusal) => {
                coordinator.metrics().connection_refused(refusal);
                tracing::debug!(%peer, limit = refusal.name(), "connection refused");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let coordinator = coordinator.clone();
        let stop = stop.clone();
        connections.spawn(async move { connection(&coordinator, stream, peer, &slot, stop).await });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Serves one connection: the handshake within its deadline (unless a newer connection takes
/// its slot first), then one answer per message.
async fn connection(
    coordinator: &Arc<Coordinator>,
    mut stream: TcpStream,
    peer: SocketAddr,
    slot: &Slot,
    stop: CancellationToken,
) {
    let config = &coordinator.config;
    let accept = Session::accept(&mut stream, &config.key, B256::random(), &config.limits);
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(config.connections.handshake_timeout, accept) => handshake,
        _ = slot.evicted() => {
            coordinator.metrics().handshake("evicted");
            return;
        }
        _ = stop.cancelled() => return,
    };
    let (mut session, prover) = match handshake {
        Ok(Ok(_)) if !slot.authenticated() => {
            coordinator.metrics().handshake("evicted");
            return;
        }
        Ok(Ok(accepted)) => {
            coordinator.metrics().handshake("ok");
            accepted
        }
        // A prover whose secret is not ours cannot verify our greeting and hangs up: not a
        // malformed frame, and the likeliest cause is worth naming.
        Ok(Err(ProtocolError::Closed | ProtocolError::Truncated)) => {
            coordinator.metrics().handshake("closed");
            tracing::warn!(
                %peer,
                "the peer closed the connection on our greeting (a prover with another shared secret does)"
            );
            return;
        }
        Ok(Err(error)) => {
            coordinator.metrics().handshake("failed");
            let reason = reason_for(&error);
            coordinator.metrics().rejected(reason);
            tracing::warn!(%peer, reason = reason.name(), "handshake refused, connection closed: {error}");
            return;
        }
        Err(_) => {
            coordinator.metrics().handshake("timeout");
            tracing::debug!(%peer, "no handshake within {:?}, connection closed", config.connections.handshake_timeout);
            return;
        }
    };
    loop {
        // On shutdown a connection waiting for a frame is dropped; one being answered finishes.
        let read = tokio::select! {
            read = session.receive(&mut stream, &config.limits, Some(&coordinator.budget)) => read,
            _ = stop.cancelled() => return,
        };
        let reply = match read {
            Ok(message) => handle(coordinator, message, &prover, peer).await,
            Err(ProtocolError::Closed) => return,
            Err(ProtocolError::Idle(after)) => {
                tracing::debug!(%peer, %prover, "idle for {after:?}, connection closed");
                return;
            }
            Err(error) => {
                let reason = reason_for(&error);
                tracing::warn!(%peer, %prover, reason = reason.name(), "frame refused, connection closed: {error}");
                coordinator.metrics().rejected(reason);
                // A peer that stopped mid-frame or never finished it gets no answer.
                if !matches!(error, ProtocolError::Truncated | ProtocolError::Timeout(_) | ProtocolError::Io(_)) {
                    let refusal = Message::Rejected(reject(reason, error.to_string()));
                    let _ = session.send(&mut stream, &refusal, &config.limits).await;
                }
                return;
            }
        };
        if let Message::Rejected(rejection) = &reply {
            coordinator.metrics().rejected(rejection.reason);
        }
        if let Err(e) = session.send(&mut stream, &reply, &config.limits).await {
            tracing::warn!(%peer, %prover, "reply not delivered: {e}");
            return;
        }
    }
}

/// The refusal code of a frame that could not be taken.
fn reason_for(error: &ProtocolError) -> RejectReason {
    match error {
        ProtocolError::BadTag => RejectReason::Unauthorized,
        ProtocolError::Version(_) => RejectReason::VersionMismatch,
        ProtocolError::Busy => RejectReason::Busy,
        _ => RejectReason::Malformed,
    }
}

async fn handle(coordinator: &Arc<Coordinator>, message: Message, prover: &str, peer: SocketAddr) -> Message {
    let kind = message.kind();
    let c = coordinator.clone();
    let prover = prover.to_owned();
    let outcome = match message {
        Message::Request(request) => tokio::task::spawn_blocking(move || c.request(&request, &prover, peer)).await,
        Message::Submit(submission) => tokio::task::spawn_blocking(move || c.submit(submission, &prover, peer)).await,
        Message::Heartbeat(beat) => tokio::task::spawn_blocking(move || c.heartbeat(&beat, &prover, peer)).await,
        other => {
            return Message::Rejected(reject(
                RejectReason::Malformed,
                format!("a coordinator does not take {}", other.kind()),
            ))
        }
    };
    outcome.unwrap_or_else(|e| {
        tracing::error!(%peer, "{kind} handler failed: {e}");
        Message::Rejected(reject(RejectReason::Internal, "the coordinator failed; retry later"))
    })
}

fn internal(e: impl std::fmt::Display) -> Message {
    tracing::error!("storage: {e}");
    Message::Rejected(reject(RejectReason::Internal, "storage failure; retry later"))
}

impl Coordinator {
    /// Checks that `proof_type` is needed and `program_id` is the program this coordinator verifies.
    fn check_type(&self, proof_type: ProofType, program_id: alloy_primitives::B256) -> Result<(), Rejection> {
        let Some(backend) = self.backend(proof_type) else {
            let needed: Vec<_> = self.required().iter().map(|t| t.name()).collect();
            return Err(reject(
                RejectReason::TypeNotNeeded,
                format!("{proof_type} proofs are not needed (this coordinator needs: {})", needed.join(", ")),
            ));
        };
        if backend.program_id() != program_id {
            return Err(reject(
                RejectReason::VersionMismatch,
                format!("program {program_id} is not the program {} this coordinator verifies", backend.program_id()),
            ));
        }
        Ok(())
    }

    fn request(&self, request: &Request, prover: &str, peer: SocketAddr) -> Message {
        if let Err(rejection) = self.check_type(request.proof_type, request.program_id) {
            tracing::warn!(%peer, %prover, "request refused: {rejection}");
            self.metrics().request("rejected");
            return Message::Rejected(rejection);
        }
        match self.store.assign(request.proof_type, prover, now_ms(), self.config.assignment_timeout) {
            Ok(Some(batch)) => {
                self.metrics().request("assigned");
                tracing::info!(
                    batch = batch.number,
                    proof_type = %request.proof_type,
                    %prover,
                    %peer,
                    blocks = %format!("{}..={}", batch.first_block, batch.last_block),
                    "batch assigned"
                );
                Message::Response(Some(Assignment {
                    batch: batch.number,
                    proof_type: request.proof_type,
                    first_block: batch.first_block,
                    last_block: batch.last_block,
                    gas_used: batch.gas_used,
                    input: batch.input,
                    heartbeat_ms: self.heartbeat_every().as_millis() as u64,
                }))
            }
            Ok(None) => {
                self.metrics().request("empty");
                Message::Response(None)
            }
            Err(e) => internal(e),
        }
    }

    /// How often a prover is asked to say it is still proving: four heartbeats fit in the
    /// assignment's deadline, so one lost heartbeat (a reconnect, a slow link) costs nothing.
    fn heartbeat_every(&self) -> Duration {
        (self.config.assignment_timeout / 4).max(Duration::from_millis(100))
    }

    fn heartbeat(&self, beat: &Heartbeat, prover: &str, peer: SocketAddr) -> Message {
        let held = match self.store.heartbeat(beat, prover, now_ms(), self.config.assignment_timeout) {
            Ok(held) => held,
            Err(e) => return internal(e),
        };
        let outcome = match (held, beat.abandon) {
            (true, false) => "kept",
            (true, true) => "abandoned",
            (false, _) => "not_held",
        };
        self.metrics().heartbeat(outcome);
        match outcome {
            "abandoned" => {
                tracing::info!(batch = beat.batch, proof_type = %beat.proof_type, %prover, %peer, "batch given back by its prover; it goes to the next prover that asks")
            }
            "not_held" => tracing::info!(
                batch = beat.batch,
                proof_type = %beat.proof_type,
                %prover,
                %peer,
                "heartbeat for a batch this prover no longer holds (reassigned after a silence, or proved)"
            ),
            _ => tracing::debug!(batch = beat.batch, %prover, done = beat.done, total = beat.total, "heartbeat"),
        }
        Message::HeartbeatAck(HeartbeatAck { batch: beat.batch, proof_type: beat.proof_type, held })
    }

    fn submit(&self, submission: Submission, prover: &str, peer: SocketAddr) -> Message {
        let (batch, proof_type) = (submission.batch, submission.proof_type);
        let outcome = self.check_and_store(submission, prover);
        match &outcome {
            Ok(stored) => {
                self.metrics().submission(if *stored { "stored" } else { "duplicate" });
                Message::SubmitAck(SubmitAck { batch, proof_type })
            }
            Err(message) => {
                if let Message::Rejected(rejection) = message {
                    tracing::warn!(batch, %proof_type, %peer, "submission refused: {rejection}");
                }
                self.metrics().submission("rejected");
                message.clone()
            }
        }
    }

    /// `Ok(true)`: stored; `Ok(false)`: already had it.
    fn check_and_store(&self, s: Submission, prover: &str) -> Result<bool, Message> {
        let refuse = |reason, detail: String| Message::Rejected(reject(reason, detail));
        let batch = self
            .store
            .batch(s.batch)
            .map_err(internal)?
            .ok_or_else(|| refuse(RejectReason::UnknownBatch, format!("there is no batch {}", s.batch)))?;
        let backend = self
            .backend(s.proof_type)
            .ok_or_else(|| refuse(RejectReason::TypeNotNeeded, format!("{} proofs are not needed", s.proof_type)))?;
        if self.store.has_proof(s.batch, s.proof_type).map_err(internal)? {
            tracing::info!(batch = s.batch, proof_type = %s.proof_type, %prover, "duplicate proof acknowledged");
            return Ok(false);
        }
        if self.store.times_assigned(s.batch, s.proof_type).map_err(internal)? == 0 {
            return Err(refuse(
                RejectReason::NotAssigned,
                format!("batch {} was never assigned for {}", s.batch, s.proof_type),
            ));
        }
        let proof = Proof::from_bytes(&s.proof).map_err(|e| refuse(RejectReason::Malformed, e.to_string()))?;
        if proof.proof_type != s.proof_type {
            return Err(refuse(
                RejectReason::Malformed,
                format!("submitted as {} but the proof is {}", s.proof_type, proof.proof_type),
            ));
        }
        check_identity(backend, &proof).map_err(|e| refuse(RejectReason::VersionMismatch, e.to_string()))?;
        let claimed = proof.outputs().map_err(|e| refuse(RejectReason::Malformed, e.to_string()))?;
        if let Some(difference) = mismatch(&claimed, &batch.expected) {
            return Err(refuse(RejectReason::OutputMismatch, format!("batch {}: {difference}", s.batch)));
        }
        let started = std::time::Instant::now();
        let verified =
            backend.verify(&proof, &batch.input).map_err(|e| refuse(RejectReason::InvalidProof, e.to_string()))?;
        if verified != bp_backend::PublicOutput::Batch(claimed) {
            return Err(refuse(RejectReason::InvalidProof, "the verified outputs differ from the claimed ones".into()));
        }
        let stored = self
            .store
            .store_proof(&StoredProof {
                batch: s.batch,
                proof_type: s.proof_type,
                public_outputs: proof.public_outputs.clone(),
                proof: s.proof,
                prover: prover.to_owned(),
                proving_ms: s.proving_ms,
                stored_at_ms: now_ms(),
            })
            .map_err(internal)?;
        if stored {
            self.metrics().proved(s.proof_type, s.proving_ms);
            tracing::info!(
                batch = s.batch,
                proof_type = %s.proof_type,
                %prover,
                proving_ms = s.proving_ms,
                verify_ms = started.elapsed().as_millis() as u64,
                final_state_root = %claimed.final_state_root,
                "proof stored"
            );
        }
        Ok(stored)
    }
}

/// The first public output word that differs from what the batch's headers say, described.
fn mismatch(claimed: &ProgramOutput, expected: &Expected) -> Option<String> {
    claimed
        .first_difference(expected)
        .map(|m| format!("the proof's {} is {}, the batch's is {}", m.word, m.got, m.expected))
}
