//! `standing import FILE...`: the operator's financial data, as JSON Lines.
//!
//! All files of one run are imported in **one database transaction**: if any
//! line of any file is invalid, nothing is written and every bad line is
//! listed (the first 100, then a count). Otherwise the records are upserted
//! by their ids, so a second import of the same file changes nothing and a
//! changed record replaces the stored one.
//!
//! Memory does not grow with record contents: a reader thread parses and
//! checks lines and hands full batches to the writer, which sends them to
//! the database while the next batch is read. What is kept for the whole run
//! is small and per record key: a 128-bit hash of each id (to refuse
//! duplicates within the run), the ids of accounts seen, and each holding's
//! kind and currency. Lines are read in bounded memory (`lines.rs`): a line
//! longer than [`MAX_LINE_BYTES`] is refused by number and skipped without
//! being held, and a line that is not UTF-8 is refused with its byte offset;
//! either way the rest of the file is still checked.
//!
//! Which dates each field accepts is documented in `record.rs` and the
//! README.

mod lines;
mod record;

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

pub use lines::{Line, LineReader, MAX_LINE_BYTES, ReadLine};
pub use record::{
    EARLIEST_FINANCIAL_DATE, EARLIEST_LIFE_DATE, LATEST_DATE, LineError, RECORD_TYPES, Record, parse_line,
    record_fields,
};

use crate::clock::Clock;
use crate::crypto::FieldCipher;
use crate::domain::{Account, BalancePoint, Bill, Currency, FxRate, HoldingKind, Transaction};
use crate::store::{AccountRow, ImportTx, Store, StoreError};

/// Bad lines listed in full; the rest are counted.
pub const MAX_LISTED_ERRORS: usize = 100;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A progress bar, when standard error is a terminal.
    Bar,
    /// A plain line per file and every few seconds, for logs and pipes.
    Lines,
    /// Nothing (tests, `serve --demo`).
    Quiet,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() { Progress::Bar } else { Progress::Lines }
    }
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub batch_size: usize,
    pub progress: Progress,
    /// Days to move every date by after the record is checked (dates of
    /// birth excepted); 0 for real data. The demo loader sets it so the
    /// demo data ends yesterday, whatever day the demo runs.
    pub shift_days: i64,
}

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    pub file: PathBuf,
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LineIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Records of one type: how many were read, and how many of them were new or
/// changed (the rest already matched the store).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TypeCount {
    pub read: u64,
    pub written: u64,
}

/// What a successful import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub files: usize,
    pub lines: u64,
    pub records: BTreeMap<&'static str, TypeCount>,
    pub seconds: f64,
}

impl ImportReport {
    pub fn total_records(&self) -> u64 {
        self.records.values().map(|c| c.read).sum()
    }

    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.total_records() as f64 / self.seconds } else { 0.0 }
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "imported {} records from {} file(s):", self.total_records(), self.files)?;
        for (kind, c) in &self.records {
            writeln!(f, "  {kind:<12} {:>10} read {:>10} new or changed", c.read, c.written)?;
        }
        write!(f, "  {:.2} s, {:.0} rows/s", self.seconds, self.rows_per_second())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} invalid line(s); nothing was imported", .total)]
    Invalid {
        /// The first [`MAX_LISTED_ERRORS`] bad lines, in file order.
        listed: Vec<LineIssue>,
        total: u64,
    },
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("storing the import failed; nothing was imported")]
    Store(#[from] StoreError),
    #[error("the import reader stopped unexpectedly")]
    ReaderFailed,
}

/// A batch of checked records on its way to the database.
enum Batch {
    Accounts(Vec<AccountRow>),
    Transactions(Vec<Transaction>),
    Balances(Vec<BalancePoint>),
    Bills(Vec<Bill>),
    FxRates(Vec<FxRate>),
}

/// What the reader knows once every line has been read.
struct ReadOutcome {
    lines: u64,
    read: BTreeMap<&'static str, u64>,
    errors: Vec<LineIssue>,
    error_total: u64,
    /// Accounts referenced but neither in the files nor yet known to be
    /// stored: account id → (up to 100 referencing lines, count).
    unresolved: HashMap<String, (Vec<(usize, u64)>, u64)>,
}

/// Imports `files` in one transaction. Returns what was written, or every
/// reason the files were refused (in which case nothing was written).
pub async fn import_files(
    store: &Store,
    cipher: &FieldCipher,
    clock: &dyn Clock,
    files: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let now = clock.now();
    // Open every file first so a typo in the last name fails before work.
    for path in files {
        File::open(path).map_err(|source| ImportError::Read { path: path.clone(), source })?;
    }

    let mut tx = store.begin_import().await?;
    // Room for a few batches so the reader never waits on a slow statement.
    let (send, mut receive) = mpsc::channel::<Batch>(4);
    let reader = {
        let files = files.to_vec();
        let cipher = cipher.clone();
        let options = options.clone();
        let today = now.date_naive();
        tokio::task::spawn_blocking(move || read_files(&files, &cipher, today, &options, send))
    };

    let mut written: BTreeMap<&'static str, u64> = BTreeMap::new();
    // Keep writing while the reader reads; a database error ends the run.
    let mut write_error = None;
    while let Some(batch) = receive.recv().await {
        if write_error.is_some() {
            continue;
        }
        match write_batch(&mut tx, batch, now).await {
            Ok((kind, n)) => *written.entry(kind).or_default() += n,
            Err(e) => write_error = Some(e),
        }
    }
    let outcome = reader.await.map_err(|_| ImportError::ReaderFailed)??;
    if let Some(e) = write_error {
        return Err(e.into());
    }

    let ReadOutcome { lines, read, mut errors, mut error_total, unresolved } = outcome;
    if !unresolved.is_empty() {
        let ids: Vec<String> = unresolved.keys().cloned().collect();
        let stored: HashSet<String> = tx.existing_accounts(&ids).await?.into_iter().collect();
        for (account, (lines, count)) in unresolved.into_iter().filter(|(id, _)| !stored.contains(id)) {
            error_total += count;
            errors.extend(lines.into_iter().map(|(file, line)| LineIssue {
                file: files[file].clone(),
                line,
                message: format!("account `{account}` is not in this import nor in the database"),
            }));
        }
    }
    if error_total > 0 {
        // Dropping `tx` rolls back whatever was written.
        errors.sort_by(|a, b| {
            (files.iter().position(|f| *f == a.file), a.line).cmp(&(files.iter().position(|f| *f == b.file), b.line))
        });
        errors.truncate(MAX_LISTED_ERRORS);
        return Err(ImportError::Invalid { listed: errors, total: error_total });
    }
    tx.commit().await?;

    let records = read
        .into_iter()
        .map(|(kind, n)| (kind, TypeCount { read: n, written: written.get(kind).copied().unwrap_or(0) }))
        .collect();
    Ok(ImportReport { files: files.len(), lines, records, seconds: started.elapsed().as_secs_f64() })
}

async fn write_batch(
    tx: &mut ImportTx,
    batch: Batch,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(&'static str, u64), StoreError> {
    Ok(match batch {
        Batch::Accounts(rows) => ("account", tx.upsert_accounts(&rows, now).await?),
        Batch::Transactions(rows) => ("transaction", tx.upsert_transactions(&rows).await?),
        Batch::Balances(rows) => ("balance", tx.upsert_balances(&rows).await?),
        Batch::Bills(rows) => ("bill", tx.upsert_bills(&rows).await?),
        Batch::FxRates(rows) => ("fx_rate", tx.upsert_fx_rates(&rows).await?),
    })
}

/// The reader's state: buffers per record type and what it must remember to
/// check the rules that span lines.
struct Reader<'a> {
    cipher: &'a FieldCipher,
    batch_size: usize,
    send: mpsc::Sender<Batch>,
    /// Once a line is refused nothing more is sent; reading goes on to list
    /// every bad line.
    failed: bool,
    accounts: Vec<AccountRow>,
    transactions: Vec<Transaction>,
    balances: Vec<BalancePoint>,
    bills: Vec<Bill>,
    fx_rates: Vec<FxRate>,
    hasher: RandomState,
    /// Hash of (record type, key) → (file index, line) where first seen.
    seen: HashMap<u128, (usize, u64)>,
    accounts_seen: HashSet<String>,
    /// (account, holding) → (kind, currency, file, line) of its first balance.
    holdings: HashMap<(String, String), (HoldingKind, Currency, usize, u64)>,
    outcome: ReadOutcome,
}

impl Reader<'_> {
    fn key_hash(&self, parts: &[&str]) -> u128 {
        // Two independent 64-bit SipHashes: a false "duplicate" would need a
        // 128-bit collision.
        let h1 = self.hasher.hash_one(parts);
        let h2 = self.hasher.hash_one((parts, 0x5eed_u16));
        (u128::from(h1) << 64) | u128::from(h2)
    }

    fn refuse(&mut self, files: &[PathBuf], file: usize, line: u64, message: String) {
        self.failed = true;
        self.outcome.error_total += 1;
        if self.outcome.errors.len() < MAX_LISTED_ERRORS {
            self.outcome.errors.push(LineIssue { file: files[file].clone(), line, message });
        }
    }

    /// Checks the rules that involve other lines; `Err` names the conflict.
    fn check_unique(&mut self, files: &[PathBuf], record: &Record, file: usize, line: u64) -> Result<(), String> {
        let (parts, what): (Vec<&str>, String) = match record {
            Record::Account(a) => (vec!["account", a.id.as_str()], format!("account id `{}`", a.id)),
            Record::Transaction(t) => (vec!["transaction", t.id.as_str()], format!("transaction id `{}`", t.id)),
            Record::Bill(b) => (vec!["bill", b.id.as_str()], format!("bill id `{}`", b.id)),
            Record::Balance(b) => {
                let date = b.date.to_string();
                let key = vec!["balance", b.account.as_str(), b.holding.as_str()];
                let hash = self.key_hash(&[key.as_slice(), &[date.as_str()]].concat());
                return self.first_time(files, hash, file, line, || {
                    format!("balance of holding `{}` of account `{}` on {}", b.holding, b.account, b.date)
                });
            }
            Record::FxRate(r) => {
                let date = r.date.to_string();
                let hash = self.key_hash(&["fx_rate", r.base.code(), r.quote.code(), &date]);
                return self
                    .first_time(files, hash, file, line, || format!("fx_rate {}/{} on {}", r.base, r.quote, r.date));
            }
        };
        let hash = self.key_hash(&parts);
        self.first_time(files, hash, file, line, || what)
    }

    fn first_time(
        &mut self,
        files: &[PathBuf],
        hash: u128,
        file: usize,
        line: u64,
        what: impl FnOnce() -> String,
    ) -> Result<(), String> {
        match self.seen.entry(hash) {
            Entry::Vacant(v) => {
                v.insert((file, line));
                Ok(())
            }
            Entry::Occupied(o) => {
                let (first_file, first_line) = *o.get();
                let place = if first_file == file {
                    format!("line {first_line}")
                } else {
                    format!("{}:{first_line}", files[first_file].display())
                };
                Err(format!("duplicate {} (first on {place})", what()))
            }
        }
    }

    fn note_account_reference(&mut self, account: &str, file: usize, line: u64) {
        if self.accounts_seen.contains(account) {
            return;
        }
        let entry = self.outcome.unresolved.entry(account.to_owned()).or_default();
        if entry.0.len() < MAX_LISTED_ERRORS {
            entry.0.push((file, line));
        }
        entry.1 += 1;
    }

    fn check_holding(&mut self, files: &[PathBuf], b: &BalancePoint, file: usize, line: u64) -> Result<(), String> {
        let key = (b.account.as_str().to_owned(), b.holding.as_str().to_owned());
        match self.holdings.get(&key) {
            None => {
                self.holdings.insert(key, (b.kind, b.amount.currency(), file, line));
                Ok(())
            }
            Some((kind, currency, f, l)) if *kind != b.kind || *currency != b.amount.currency() => Err(format!(
                "holding `{}` is {} {} here but {} {} at {}:{l}",
                b.holding,
                b.kind.as_str(),
                b.amount.currency(),
                kind.as_str(),
                currency,
                files[*f].display()
            )),
            Some(_) => Ok(()),
        }
    }

    fn accept(&mut self, record: Record, file: usize, line: u64) -> Result<(), ImportError> {
        match record {
            Record::Account(a) => {
                self.accounts_seen.insert(a.id.as_str().to_owned());
                self.outcome.unresolved.remove(a.id.as_str());
                let row = self.seal(&a);
                push(&mut self.accounts, row, self.batch_size, &self.send, self.failed, Batch::Accounts)
            }
            Record::Transaction(t) => {
                self.note_account_reference(t.account.as_str(), file, line);
                push(&mut self.transactions, t, self.batch_size, &self.send, self.failed, Batch::Transactions)
            }
            Record::Balance(b) => {
                self.note_account_reference(b.account.as_str(), file, line);
                push(&mut self.balances, b, self.batch_size, &self.send, self.failed, Batch::Balances)
            }
            Record::Bill(b) => {
                self.note_account_reference(b.account.as_str(), file, line);
                push(&mut self.bills, b, self.batch_size, &self.send, self.failed, Batch::Bills)
            }
            Record::FxRate(r) => push(&mut self.fx_rates, r, self.batch_size, &self.send, self.failed, Batch::FxRates),
        }
    }

    fn seal(&self, a: &Account) -> AccountRow {
        let passport = a.passport_number.as_str();
        AccountRow {
            id: a.id.clone(),
            full_name: a.full_name.as_str().to_owned(),
            date_of_birth: a.date_of_birth,
            nationality: a.nationality.to_string(),
            passport_sealed: self.cipher.seal(passport.as_bytes(), &passport_context(a.id.as_str())),
            passport_index: self.cipher.blind_index("passport", passport).to_vec(),
            passport_country: a.passport_country.to_string(),
            phone: a.phone.as_str().to_owned(),
            email: a.email.as_str().to_owned(),
            opened_on: a.opened_on,
            phone_since: a.phone_since,
            address_since: a.address_since,
        }
    }

    fn flush_all(&mut self) -> Result<(), ImportError> {
        if self.failed {
            return Ok(());
        }
        // Accounts first: not required (foreign keys are checked at commit)
        // but it keeps the database's work in a natural order.
        let batches = [
            Batch::Accounts(std::mem::take(&mut self.accounts)),
            Batch::FxRates(std::mem::take(&mut self.fx_rates)),
            Batch::Balances(std::mem::take(&mut self.balances)),
            Batch::Bills(std::mem::take(&mut self.bills)),
            Batch::Transactions(std::mem::take(&mut self.transactions)),
        ];
        for batch in batches.into_iter().filter(|b| !b.is_empty()) {
            send(&self.send, batch)?;
        }
        Ok(())
    }
}

impl Batch {
    fn is_empty(&self) -> bool {
        match self {
            Batch::Accounts(v) => v.is_empty(),
            Batch::Transactions(v) => v.is_empty(),
            Batch::Balances(v) => v.is_empty(),
            Batch::Bills(v) => v.is_empty(),
            Batch::FxRates(v) => v.is_empty(),
        }
    }
}

/// The context a sealed passport number is bound to.
pub fn passport_context(account_id: &str) -> String {
    format!("accounts.passport_sealed:{account_id}")
}

fn send(to: &mpsc::Sender<Batch>, batch: Batch) -> Result<(), ImportError> {
    to.blocking_send(batch).map_err(|_| ImportError::ReaderFailed)
}

fn push<T>(
    buffer: &mut Vec<T>,
    item: T,
    batch_size: usize,
    to: &mpsc::Sender<Batch>,
    failed: bool,
    wrap: fn(Vec<T>) -> Batch,
) -> Result<(), ImportError> {
    if failed {
        return Ok(());
    }
    buffer.push(item);
    if buffer.len() >= batch_size {
        send(to, wrap(std::mem::replace(buffer, Vec::with_capacity(batch_size))))?;
    }
    Ok(())
}

fn read_files(
    files: &[PathBuf],
    cipher: &FieldCipher,
    today: NaiveDate,
    options: &ImportOptions,
    send: mpsc::Sender<Batch>,
) -> Result<ReadOutcome, ImportError> {
    let total_bytes: u64 = files.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    let bar = match options.progress {
        Progress::Bar => {
            let bar = ProgressBar::new(total_bytes);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            Some(bar)
        }
        _ => None,
    };
    let mut reader = Reader {
        cipher,
        batch_size: options.batch_size.max(1),
        send,
        failed: false,
        accounts: Vec::new(),
        transactions: Vec::new(),
        balances: Vec::new(),
        bills: Vec::new(),
        fx_rates: Vec::new(),
        hasher: RandomState::new(),
        // About one record per 150 bytes: sized once instead of rehashing
        // a million entries several times over.
        seen: HashMap::with_capacity(usize::try_from(total_bytes / 150).unwrap_or(0).min(50_000_000)),
        accounts_seen: HashSet::new(),
        holdings: HashMap::new(),
        outcome: ReadOutcome {
            lines: 0,
            read: BTreeMap::new(),
            errors: Vec::new(),
            error_total: 0,
            unresolved: HashMap::new(),
        },
    };
    let mut last_report = Instant::now();
    for (file_index, path) in files.iter().enumerate() {
        if let Some(bar) = &bar {
            bar.set_message(display_name(path));
        }
        let file = File::open(path).map_err(|source| ImportError::Read { path: path.clone(), source })?;
        let mut input = LineReader::new(BufReader::with_capacity(1 << 16, file));
        let mut number: u64 = 0;
        while let Some(read) = input.next_line().map_err(|source| ImportError::Read { path: path.clone(), source })? {
            number = read.number;
            reader.outcome.lines += 1;
            if let Some(bar) = &bar {
                bar.inc(read.file_bytes);
            }
            let text = match read.line {
                Line::Text(text) => text,
                other => {
                    if let Some(message) = other.refusal(number) {
                        reader.refuse(files, file_index, number, message);
                    }
                    continue;
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            if text.starts_with('\u{feff}') {
                // Files joined with `cat` carry their marks into the middle.
                let message = "a byte order mark (U+FEFF) may only start a file; remove it from this line".to_owned();
                reader.refuse(files, file_index, number, message);
                continue;
            }
            let checked = parse_line(text, today).and_then(|mut record| {
                if options.shift_days != 0 {
                    record.shift_dates(options.shift_days);
                }
                reader.check_unique(files, &record, file_index, number)?;
                if let Record::Balance(b) = &record {
                    reader.check_holding(files, b, file_index, number)?;
                }
                Ok(record)
            });
            match checked {
                Ok(record) => {
                    *reader.outcome.read.entry(record.type_name()).or_default() += 1;
                    reader.accept(record, file_index, number)?;
                }
                Err(message) => reader.refuse(files, file_index, number, message),
            }
            if options.progress == Progress::Lines && last_report.elapsed() > Duration::from_secs(5) {
                // Progress is a courtesy: a closed standard error must not end
                // (or panic) the import, so write errors are ignored.
                let _ = writeln!(std::io::stderr(), "  {}: {number} lines read", path.display());
                last_report = Instant::now();
            }
        }
        if options.progress == Progress::Lines {
            let _ = writeln!(std::io::stderr(), "read {} ({number} lines)", path.display());
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    reader.flush_all()?;
    Ok(reader.outcome)
}

fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
