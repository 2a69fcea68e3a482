//! The catch-up table: a member away while `gap` messages are posted resumes and
//! gets each of them exactly once, in order, then live — for every gap size, on
//! one node or across nodes (posted on one, resumed on another).

use futures_util::future::join_all;
use serde_json::json;

use super::Server;
use super::ws::Ws;

/// The gaps a resuming client must survive: around the outbound queue (256), the
/// old replay limit (500) and far past both.
pub const GAPS: &[usize] = &[0, 1, 255, 256, 257, 499, 500, 501, 5000];

/// Posts `count` messages to `study` as `token`, 16 at a time; they are numbered
/// from `first` in their content.
pub async fn post_many(srv: &Server, token: &str, study: &str, first: usize, count: usize) {
    let numbers: Vec<usize> = (first..first + count).collect();
    for chunk in numbers.chunks(16) {
        let posts = chunk.iter().map(|n| async move {
            srv.post(
                &format!("/api/studies/{study}/chat"),
                Some(token),
                json!({"content": format!("m{n}"), "clientId": format!("gap-{n}")}),
            )
            .await
            .ok(201);
        });
        join_all(posts).await;
    }
}

/// For each gap of [`GAPS`]: `member` goes away, `gap` messages are posted on
/// `post_on` by `poster`, and `member` resumes on `resume_on` with the cursor it
/// held — by change number for even rounds, by sequence alone for odd ones (the
/// older clients' way). Every missed message must arrive once, in sequence order,
/// before `subscribed`, with no close (the old server closed with 4008 past 256),
/// and the next message must arrive live once.
pub async fn gap_table(
    post_on: &Server,
    resume_on: &Server,
    poster: &str,
    member: &str,
    study: &str,
) {
    let mut ws = Ws::connect(resume_on, member).await;
    let (replayed, subscribed) = ws.resume(study, None, None).await;
    assert!(replayed.is_empty(), "a fresh subscription replays nothing");
    let mut seq = subscribed["lastSeq"].as_i64().expect("lastSeq");
    let mut change = subscribed["lastChange"].as_i64().expect("lastChange");
    drop(ws);
    let mut posted = 0;
    for (round, &gap) in GAPS.iter().enumerate() {
        post_many(post_on, poster, study, posted, gap).await;
        posted += gap;
        let mut ws = Ws::connect(resume_on, member).await;
        let (replayed, subscribed) = if round % 2 == 0 {
            ws.resume(study, None, Some(change)).await
        } else {
            ws.resume(study, Some(seq), None).await
        };
        let seqs: Vec<i64> = replayed
            .iter()
            .filter(|f| f["type"] == "message")
            .map(|f| f["message"]["seq"].as_i64().expect("seq"))
            .collect();
        let expected: Vec<i64> = (seq + 1..=seq + gap as i64).collect();
        assert!(
            seqs == expected,
            "gap {gap}: got {} messages ({:?}..{:?}), expected {} in order",
            seqs.len(),
            seqs.first(),
            seqs.last(),
            expected.len()
        );
        assert!(
            replayed.iter().all(|f| f["type"] == "message"),
            "gap {gap}: only messages were missed"
        );
        seq += gap as i64;
        assert_eq!(subscribed["lastSeq"].as_i64(), Some(seq), "gap {gap}");
        let reached = subscribed["lastChange"].as_i64().expect("lastChange");
        assert_eq!(
            reached,
            change + gap as i64,
            "gap {gap}: one change per message"
        );
        change = reached;
        // Live from there: the next message once, with the next numbers.
        post_many(post_on, poster, study, posted, 1).await;
        posted += 1;
        let live = ws.recv_type("message").await;
        assert_eq!(live["message"]["seq"].as_i64(), Some(seq + 1), "gap {gap}");
        assert_eq!(live["change"].as_i64(), Some(change + 1), "gap {gap}");
        seq += 1;
        change += 1;
        // Nothing else came: fenced by the answer to a request sent after it.
        // (A second subscribe changes nothing and is answered with an error.)
        ws.send(json!({"type": "subscribe", "requestId": "fence", "studyId": study}))
            .await;
        loop {
            let frame = ws.recv().await;
            match frame["type"].as_str() {
                Some("error") if frame["requestId"] == "fence" => break,
                Some("message") => panic!("gap {gap}: a second delivery {frame}"),
                _ => {}
            }
        }
    }
}
