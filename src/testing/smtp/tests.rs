use super::*;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::response::Response;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, address::Envelope};
use std::time::Instant;

const WAIT: Duration = Duration::from_secs(5);

/// lettre's pooled client against `smtp`, with lettre's own `timeout`.
fn transport(smtp: &SmtpReceiver, timeout: Duration) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp.port())
        .timeout(Some(timeout))
        .build()
}

fn client(smtp: &SmtpReceiver) -> AsyncSmtpTransport<Tokio1Executor> {
    transport(smtp, Duration::from_secs(2))
}

fn envelope() -> Envelope {
    let to: Address = "applicant@example.org".parse().unwrap();
    Envelope::new(Some("reports@example.com".parse().unwrap()), vec![to]).unwrap()
}

/// A small message with the Message-ID `<{id}@example.com>`.
fn raw(id: &str) -> Vec<u8> {
    format!("Message-ID: <{id}@example.com>\r\nSubject: test\r\n\r\nHello.\r\n").into_bytes()
}

async fn send(transport: &AsyncSmtpTransport<Tokio1Executor>, id: &str) -> Result<Response, SmtpError> {
    transport.send_raw(&envelope(), &raw(id)).await
}

/// How the project will have to classify a failed send.
fn class(result: &Result<Response, SmtpError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) if e.is_transient() => "transient",
        Err(e) if e.is_permanent() => "permanent",
        Err(_) => "neither",
    }
}

#[tokio::test]
async fn a_message_with_a_binary_attachment_arrives_byte_identical() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let from: Mailbox = "Standing <reports@example.com>".parse().unwrap();
    let message = Message::builder()
        .from(from)
        .to("Applicant <applicant@example.org>".parse().unwrap())
        .subject("Your report")
        .message_id(Some("<report-1@example.com>".to_owned()))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain("Attached: your report.\n.\n..dots\n".to_owned()))
                .singlepart(
                    Attachment::new("report.pdf".to_owned()).body(pdf, ContentType::parse("application/pdf").unwrap()),
                ),
        )
        .unwrap();

    client(&smtp).send(message.clone()).await.unwrap();

    let got = smtp.wait_for_accepted(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, message.formatted(), "the data must be the bytes lettre was given");
    assert_eq!(got[0].message_id.as_deref(), Some("<report-1@example.com>"));
    assert_eq!(got[0].from, "reports@example.com");
    assert_eq!(got[0].to, ["applicant@example.org"]);
    assert!(got[0].acknowledged);
}

#[tokio::test]
async fn dots_and_bare_line_feeds_round_trip() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let transport = client(&smtp);
    let bodies: [&[u8]; 3] = [
        b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nbare\n.after a bare LF\r\n.",
        b"Subject: ends with CRLF\r\n\r\nline\r\n\r\n",
        b"",
    ];
    for body in bodies {
        transport.send_raw(&envelope(), body).await.unwrap();
    }
    let got: Vec<Vec<u8>> = smtp.wait_for_accepted(3, WAIT).await.into_iter().map(|r| r.data).collect();
    assert_eq!(got, bodies.map(<[u8]>::to_vec));
}

#[tokio::test]
async fn the_pool_sends_several_messages_over_one_connection() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let transport = client(&smtp);
    for id in ["a", "b", "c"] {
        send(&transport, id).await.unwrap();
        // lettre parks the connection from a task spawned when the send ends:
        // a send right away finds the pool empty and opens another one.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ids: Vec<_> = smtp.wait_for_accepted(3, WAIT).await.into_iter().filter_map(|r| r.message_id).collect();
    assert_eq!(ids, ["<a@example.com>", "<b@example.com>", "<c@example.com>"]);
    assert_eq!(smtp.connections(), 1);
    // lettre checks a parked connection with NOOP before reusing it; it never sends RSET.
    let verbs: Vec<String> =
        smtp.commands().iter().map(|c| c.split([' ', ':']).next().unwrap_or("").to_owned()).collect();
    assert_eq!(verbs, ["EHLO", "MAIL", "RCPT", "DATA", "NOOP", "MAIL", "RCPT", "DATA", "NOOP", "MAIL", "RCPT", "DATA"]);
}

/// A bare client, to see the replies themselves.
struct Raw(BufReader<TcpStream>);

impl Raw {
    async fn connect(smtp: &SmtpReceiver) -> (Raw, String) {
        let mut raw = Raw(BufReader::new(TcpStream::connect((Ipv4Addr::LOCALHOST, smtp.port())).await.unwrap()));
        let greeting = raw.reply().await;
        (raw, greeting)
    }

    /// A whole reply, its lines joined by "|"; "" at the end of the connection.
    async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.0.read_line(&mut line).await.unwrap_or(0) == 0 {
                return lines.join("|");
            }
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.trim_end().to_owned());
            if last {
                return lines.join("|");
            }
        }
    }

    async fn send(&mut self, text: &str) -> String {
        self.0.get_mut().write_all(text.as_bytes()).await.unwrap();
        self.reply().await
    }
}

#[tokio::test]
async fn the_protocol_answers_in_order_and_refuses_out_of_order() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let (mut c, greeting) = Raw::connect(&smtp).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(c.send("MAIL FROM:<a@example.com>\r\n").await.starts_with("503 "));
    assert_eq!(c.send("EHLO client\r\n").await, format!("250-localhost|250-8BITMIME|250 SIZE {MAX_MESSAGE_BYTES}"));
    assert!(c.send("VRFY someone\r\n").await.starts_with("500 "));
    assert!(c.send("RCPT TO:<b@example.com>\r\n").await.starts_with("503 "));
    assert!(c.send("DATA\r\n").await.starts_with("503 "));
    assert!(c.send("MAIL FROM:a@example.com\r\n").await.starts_with("501 "));
    assert!(c.send("mail from:<a@example.com> BODY=8BITMIME\r\n").await.starts_with("250 "));
    assert!(c.send("MAIL FROM:<again@example.com>\r\n").await.starts_with("503 "));
    assert!(c.send("DATA\r\n").await.starts_with("503 "), "DATA without a recipient");
    assert!(c.send("RSET\r\n").await.starts_with("250 "));
    assert!(c.send("RCPT TO:<b@example.com>\r\n").await.starts_with("503 "), "RSET ends the transaction");
    assert!(c.send("NOOP\r\n").await.starts_with("250 "));
    assert!(c.send("MAIL FROM:<>\r\n").await.starts_with("250 "));
    assert!(c.send("RCPT TO:<b@example.com>\r\n").await.starts_with("250 "));
    assert!(c.send("RCPT TO: <c@example.com>\r\n").await.starts_with("250 "));
    assert!(c.send("DATA\r\n").await.starts_with("354 "));
    assert!(c.send("Message-ID:\r\n <folded@example.com>\r\n\r\n..x\r\n.\r\n").await.starts_with("250 "));
    assert_eq!(c.send("QUIT\r\n").await, "221 2.0.0 localhost closing connection");
    assert_eq!(c.reply().await, "", "closed after QUIT");

    let got = smtp.received();
    assert_eq!((got[0].from.as_str(), got[0].to.len()), ("", 2));
    assert_eq!(got[0].data, b"Message-ID:\r\n <folded@example.com>\r\n\r\n.x");
    assert_eq!(got[0].message_id.as_deref(), Some("<folded@example.com>"));

    let (mut c, _) = Raw::connect(&smtp).await;
    let long = format!("EHLO {}\r\n", "x".repeat(MAX_COMMAND_LINE));
    assert!(c.send(&long).await.starts_with("500 "));
    assert!(c.send("NOOP\r\n").await.starts_with("250 "), "the line is skipped, the connection kept");
}

#[tokio::test]
async fn a_421_greeting_is_transient_and_the_next_connection_is_served() {
    let smtp = SmtpReceiver::start().await.unwrap();
    smtp.push_faults([Fault::Refuse421AtGreeting]);
    let transport = client(&smtp);
    assert_eq!(class(&send(&transport, "a").await), "transient");
    assert_eq!(class(&send(&transport, "a").await), "ok");
    assert_eq!((smtp.connections(), smtp.accepted().len()), (2, 1));
}

#[tokio::test]
async fn each_fault_gives_its_error_class_and_stores_nothing() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let transport = client(&smtp);
    let cases = [
        (Fault::Transient451AtMail, "transient"),
        (Fault::Transient451AtRcpt, "transient"),
        (Fault::Transient451AfterData, "transient"),
        (Fault::Permanent550AtRcpt, "permanent"),
        (Fault::Permanent550AfterData, "permanent"),
        // The connection is gone: lettre reports a network or response error.
        (Fault::DropDuringData, "neither"),
    ];
    for (fault, expected) in cases {
        smtp.push_faults([fault.clone()]);
        assert_eq!(class(&send(&transport, "x").await), expected, "{fault:?}");
        assert_eq!(smtp.pending_faults(), 0, "{fault:?}");
    }
    assert!(smtp.received().is_empty());
    assert_eq!(class(&send(&transport, "x").await), "ok");
    assert_eq!(smtp.wait_for_accepted(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn a_hang_up_after_the_final_dot_is_neither_class_but_the_message_arrived() {
    let smtp = SmtpReceiver::start().await.unwrap();
    smtp.push_faults([Fault::DropAfterData]);
    let transport = client(&smtp);
    let result = send(&transport, "once").await;
    assert_eq!(class(&result), "neither", "{result:?}");
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(!got[0].acknowledged);
    assert!(smtp.accepted().is_empty());

    // The sender retries with the same Message-ID: the receiver sees it twice.
    send(&transport, "once").await.unwrap();
    let got = smtp.wait_for_accepted(1, WAIT).await;
    let ids: Vec<_> = got.iter().map(|r| (r.message_id.as_deref(), r.acknowledged)).collect();
    assert_eq!(ids, [(Some("<once@example.com>"), false), (Some("<once@example.com>"), true)]);
}

#[tokio::test]
async fn a_stall_needs_a_timeout_around_the_send() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let stall = Duration::from_secs(2);
    smtp.push_faults([Fault::Stall(stall), Fault::Stall(stall)]);

    // The way to bound a send: a timeout around it.
    let bounded = transport(&smtp, Duration::from_millis(300));
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_millis(300), send(&bounded, "a")).await;
    assert!(outcome.is_err(), "the outer timeout fires");
    assert!(started.elapsed() < stall);

    // lettre's own `timeout` bounds only the TCP connect, not the replies: a
    // fresh transport waits out the whole stall, then sees the hang-up.
    let started = Instant::now();
    let result = send(&transport(&smtp, Duration::from_millis(300)), "b").await;
    assert!(started.elapsed() >= stall, "{:?}", started.elapsed());
    let error = result.unwrap_err();
    assert!(!error.is_timeout() && !error.is_transient() && !error.is_permanent(), "{error:?}");
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn concurrent_senders_each_take_a_different_fault() {
    let smtp = SmtpReceiver::start().await.unwrap();
    smtp.push_faults([Fault::Transient451AtMail, Fault::Permanent550AtRcpt, Fault::Transient451AfterData]);
    let senders = (0..4).map(|i| {
        let transport = client(&smtp);
        tokio::spawn(async move { class(&send(&transport, &format!("m{i}")).await) })
    });
    let mut classes = Vec::new();
    for sender in senders.collect::<Vec<_>>() {
        classes.push(sender.await.unwrap());
    }
    classes.sort_unstable();
    assert_eq!(classes, ["ok", "permanent", "transient", "transient"]);
    assert_eq!((smtp.connections(), smtp.pending_faults(), smtp.received().len()), (4, 0, 1));
}

#[tokio::test]
async fn waiting_gives_up_at_the_timeout() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let started = Instant::now();
    assert!(smtp.wait_for_accepted(1, Duration::from_millis(50)).await.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[test]
fn message_id_is_read_from_the_header_section_only() {
    assert_eq!(message_id(b"Subject: x\r\nmessage-ID :  <a@b>  \r\n\r\n").as_deref(), Some("<a@b>"));
    assert_eq!(message_id(b"Message-ID:\r\n\t<folded@b>\r\nTo: c\r\n\r\n").as_deref(), Some("<folded@b>"));
    assert_eq!(message_id(b"Subject: x\r\n\r\nMessage-ID: <in-body@b>\r\n"), None);
    assert_eq!(message_id(b"Message-ID:   \r\n\r\n"), None);
}

#[tokio::test]
async fn accept_lets_one_transaction_through_and_a_421_also_meets_a_pooled_connection() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let transport = client(&smtp);
    assert_eq!(class(&send(&transport, "warm").await), "ok");
    smtp.push_faults([Fault::Accept, Fault::Refuse421AtGreeting, Fault::Transient451AtMail]);
    assert_eq!(class(&send(&transport, "a").await), "ok");
    // The refusal meets the next MAIL FROM, on whatever connection it comes.
    assert_eq!(class(&send(&transport, "b").await), "transient");
    assert_eq!(class(&send(&transport, "c").await), "transient");
    assert_eq!(smtp.pending_faults(), 0);
    smtp.set_reply_delay(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    assert_eq!(class(&send(&transport, "slow").await), "ok");
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(smtp.accepted().len(), 3);
}
