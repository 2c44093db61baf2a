//! Model-based test: random writes and compactions checked against a plain in-memory history.

#![allow(clippy::unwrap_used)] // a test fails loudly on any error

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use store::{
    Error, Event, EventKind, KeyValue, NullSink, Options, Precondition, Revision, Store, Write,
};

#[derive(Clone, Debug)]
enum Step {
    Put {
        key: u8,
        pre: Pre,
    },
    Delete {
        key: u8,
        pre: Pre,
    },
    /// Compact at this fraction (in 1/8) of the way from the compaction point to the latest revision.
    Compact(u8),
}

#[derive(Clone, Copy, Debug)]
enum Pre {
    None,
    MustNotExist,
    Exists,
    /// The key's real mod revision plus this offset (0 = a correct compare-and-swap).
    ModRevision(u8),
}

fn step() -> impl Strategy<Value = Step> {
    let pre = prop_oneof![
        Just(Pre::None),
        Just(Pre::MustNotExist),
        Just(Pre::Exists),
        (0u8..2).prop_map(Pre::ModRevision),
    ];
    prop_oneof![
        6 => (0u8..5, pre.clone()).prop_map(|(key, pre)| Step::Put { key, pre }),
        3 => (0u8..5, pre).prop_map(|(key, pre)| Step::Delete { key, pre }),
        1 => (0u8..=8).prop_map(Step::Compact),
    ]
}

/// `(create, mod, value)` of each live key.
type State = BTreeMap<String, (Revision, Revision, Vec<u8>)>;

#[derive(Default)]
struct Model {
    /// `states[r]` is the state after revision `r`.
    states: Vec<State>,
    events: Vec<Event>,
    compacted: Revision,
}

impl Model {
    fn current(&self) -> &State {
        self.states.last().unwrap()
    }

    fn revision(&self) -> Revision {
        (self.states.len() - 1) as Revision
    }
}

fn precondition(pre: Pre, current: Option<Revision>) -> Precondition {
    match pre {
        Pre::None => Precondition::None,
        Pre::MustNotExist => Precondition::MustNotExist,
        Pre::Exists => Precondition::Exists,
        Pre::ModRevision(offset) => {
            Precondition::ModRevision(current.unwrap_or(1) + offset as Revision)
        }
    }
}

/// What a write must return: `Ok((revision, create_revision))`, or the `current` of its PreconditionFailed.
type Expected = Result<(Revision, Revision), Option<(Revision, Revision)>>;

impl Model {
    /// Applies one write to the model and returns it with the outcome the store must give.
    fn plan(&mut self, key: u8, pre: Pre, is_delete: bool) -> (Write, Expected) {
        let key = format!("/k/{key}");
        let existing = self.current().get(&key).map(|e| (e.0, e.1));
        let precondition = precondition(pre, existing.map(|e| e.1));
        let holds = match precondition {
            Precondition::None => !is_delete || existing.is_some(),
            Precondition::MustNotExist => !is_delete && existing.is_none(),
            Precondition::Exists => existing.is_some(),
            Precondition::ModRevision(r) => existing.is_some_and(|e| e.1 == r),
        };
        let write = if is_delete {
            Write::delete(key.clone(), precondition)
        } else {
            Write::put_with(key.clone(), precondition, |rev| {
                Ok(format!("v{rev}").into_bytes())
            })
        };
        if !holds {
            return (write, Err(existing));
        }
        let rev = self.revision() + 1;
        let create = existing.map_or(rev, |e| e.0);
        let mut next = self.current().clone();
        let value = (!is_delete).then(|| format!("v{rev}").into_bytes());
        match &value {
            Some(v) => next.insert(key.clone(), (create, rev, v.clone())),
            None => next.remove(&key),
        };
        self.states.push(next);
        self.events.push(Event {
            revision: rev,
            key,
            kind: if is_delete {
                EventKind::Delete
            } else {
                EventKind::Put
            },
            value: value.map(Into::into),
            create_revision: create,
        });
        (write, Ok((rev, create)))
    }
}

/// Queues every write before any is answered (spawned tasks run in spawn order), then checks each outcome.
fn submit(rt: &tokio::runtime::Runtime, store: &Store, writes: Vec<(Write, Expected)>) {
    let (writes, expected): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
    let tasks: Vec<_> = writes
        .into_iter()
        .map(|write| {
            let store = store.clone();
            rt.spawn(async move { store.write(write).await })
        })
        .collect();
    for (task, expected) in tasks.into_iter().zip(expected) {
        let result = rt.block_on(task).unwrap();
        match (&result, expected) {
            (Ok(c), Ok(revs)) => assert_eq!((c.revision, c.create_revision), revs),
            (Err(Error::PreconditionFailed { current, .. }), Err(revs)) => {
                assert_eq!(*current, revs)
            }
            _ => panic!("expected {expected:?}, got {result:?}"),
        }
    }
}

fn run(steps: Vec<Step>) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fsync: false,
        max_batch: 256,
    };
    let (store, _) =
        Store::open(&dir.path().join("kernel.db"), options, Arc::new(NullSink)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut model = Model {
        states: vec![State::new()],
        ..Model::default()
    };

    // Writes between two compactions are submitted together, so that they share groups on the writer thread;
    // the store must still apply them one after the other, exactly as the model does.
    let mut queued: Vec<(Write, Expected)> = Vec::new();
    for step in steps {
        match step {
            Step::Put { key, pre } | Step::Delete { key, pre } => {
                queued.push(model.plan(key, pre, matches!(step, Step::Delete { .. })));
            }
            Step::Compact(eighths) => {
                submit(&rt, &store, std::mem::take(&mut queued));
                let span = model.revision() - model.compacted;
                let at = model.compacted + span * eighths as Revision / 8;
                rt.block_on(store.compact(at)).unwrap();
                model.compacted = model.compacted.max(at);
            }
        }
    }
    submit(&rt, &store, queued);

    assert_eq!(store.revision(), model.revision());
    assert_eq!(store.compacted_revision(), model.compacted);
    for rev in 0..=model.revision() {
        let read = store.range("/k/", "/k0", None, rev, 0);
        if rev != 0 && rev < model.compacted {
            assert!(
                matches!(read, Err(Error::Compacted { .. })),
                "rev {rev}: {read:?}"
            );
            continue;
        }
        let state = if rev == 0 {
            model.current()
        } else {
            &model.states[rev as usize]
        };
        let expected: Vec<KeyValue> = state
            .iter()
            .map(|(key, (create, modified, value))| KeyValue {
                key: key.clone(),
                value: value.clone().into(),
                create_revision: *create,
                mod_revision: *modified,
            })
            .collect();
        assert_eq!(read.unwrap().0, expected, "range at {rev}");
        // Paging two at a time gives the same list.
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (page, more) = store.range("/k/", "/k0", after.as_deref(), rev, 2).unwrap();
            after = page.last().map(|kv| kv.key.clone());
            paged.extend(page);
            if !more {
                break;
            }
        }
        assert_eq!(paged, expected, "paged range at {rev}");
    }
    let since = model.compacted;
    let expected: Vec<Event> = model
        .events
        .iter()
        .filter(|e| e.revision > since)
        .cloned()
        .collect();
    assert_eq!(store.events_since(since, 0).unwrap(), expected);
    if since > 0 {
        assert!(matches!(
            store.events_since(since - 1, 0),
            Err(Error::Compacted { .. })
        ));
    }
    rt.block_on(store.close());

    // Everything survives a reopen.
    let (store, snapshot) = Store::open(
        &dir.path().join("kernel.db"),
        Options::default(),
        Arc::new(NullSink),
    )
    .unwrap();
    assert_eq!(
        (snapshot.revision, snapshot.compacted),
        (model.revision(), model.compacted)
    );
    assert_eq!(snapshot.items, store.range("", "", None, 0, 0).unwrap().0);
    assert_eq!(snapshot.items.len(), model.current().len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_store_matches_a_plain_history(steps in prop::collection::vec(step(), 1..40)) {
        run(steps);
    }
}
