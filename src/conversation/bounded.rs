//! The one bounded map behind every in-memory store and tracker: a map whose entries are kept
//! in an order (insertion, or expiry) and which forgets the first entry in that order when
//! full, so memory stays bounded under any load.
//!
//! Every operation is one hash-map update and one ordered-index update (`O(log n)`); nothing
//! scans the map, because callers run these under a lock.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// What every bounded in-memory store and tracker says of itself: `capacity`, `len` and
/// `is_empty`, read from the [`BoundedMap`] that `$map` reaches through `$this`, and a
/// `Debug` that shows only those counts. Never the keys: they are phone numbers and user ids,
/// which are personal data.
macro_rules! bounded_counts {
    ($name:ident $(<$g:ident>)?, $what:literal, |$this:ident| $map:expr) => {
        impl$(<$g>)? $name$(<$g>)? {
            #[doc = concat!("The most ", $what, " kept at once.")]
            pub fn capacity(&self) -> usize {
                let $this = self;
                $map.capacity()
            }

            #[doc = concat!("How many ", $what, " are kept now.")]
            pub fn len(&self) -> usize {
                let $this = self;
                $map.len()
            }

            #[doc = concat!("True when no ", $what, " are kept.")]
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl$(<$g>)? ::std::fmt::Debug for $name$(<$g>)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("capacity", &self.capacity())
                    .field("len", &self.len())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use bounded_counts;

/// A map of at most `capacity` entries, each with a position `(O, sequence)` in an ordered
/// index: `O` is what the caller orders by (an expiry time, or `()` for insertion order), and
/// the sequence number breaks ties by insertion.
#[derive(Debug)]
pub(crate) struct BoundedMap<K, V, O = ()> {
    capacity: usize,
    entries: HashMap<K, (V, (O, u64))>,
    order: BTreeMap<(O, u64), K>,
    next_seq: u64,
}

impl<K, V, O> BoundedMap<K, V, O>
where
    K: Hash + Eq + Clone,
    O: Ord + Clone,
{
    /// A map that keeps at most `capacity` entries (none at all for 0).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).map(|(value, _)| value)
    }

    /// Every value, in the order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.order
            .values()
            .filter_map(|key| self.entries.get(key).map(|(value, _)| value))
    }

    /// The value, to change in place; its position in the order stays.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get_mut(key).map(|(value, _)| value)
    }

    /// Inserts or replaces `key` at position `order` (after every entry with the same
    /// `order`). A new key in a full map first displaces the first entry in the order, which
    /// is returned so the caller can drop what it keeps beside it.
    pub(crate) fn insert(&mut self, key: K, value: V, order: O) -> Option<(K, V)> {
        if self.capacity == 0 {
            return None;
        }
        self.next_seq = self.next_seq.wrapping_add(1);
        let position = (order, self.next_seq);
        if let Some((old_value, old_position)) = self.entries.get_mut(&key) {
            *old_value = value;
            let old_position = std::mem::replace(old_position, position.clone());
            self.order.remove(&old_position);
            self.order.insert(position, key);
            return None;
        }
        let evicted = if self.entries.len() >= self.capacity {
            self.pop_first()
        } else {
            None
        };
        self.order.insert(position.clone(), key.clone());
        self.entries.insert(key, (value, position));
        evicted
    }

    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (value, position) = self.entries.remove(key)?;
        self.order.remove(&position);
        Some(value)
    }

    /// Removes the first entries in the order while `done` says they are (for example,
    /// expired), and stops at the first that is not.
    pub(crate) fn pop_front_while(&mut self, mut done: impl FnMut(&V) -> bool) {
        while let Some((_, key)) = self.order.first_key_value() {
            if !self.entries.get(key).is_some_and(|(value, _)| done(value)) {
                break;
            }
            self.pop_first();
        }
    }

    fn pop_first(&mut self) -> Option<(K, V)> {
        let (_, key) = self.order.pop_first()?;
        let (value, _) = self.entries.remove(&key)?;
        Some((key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_in_order_goes_when_full() {
        let mut map = BoundedMap::new(2);
        assert_eq!(map.insert("a", 1, 30), None);
        assert_eq!(map.insert("b", 2, 10), None);
        // "b" orders first (10 < 30), so it makes room.
        assert_eq!(map.insert("c", 3, 20), Some(("b", 2)));
        assert_eq!((map.get("a"), map.get("b"), map.len()), (Some(&1), None, 2));
        // Replacing a key moves it and evicts nothing.
        assert_eq!(map.insert("a", 4, 5), None);
        assert_eq!(map.insert("d", 5, 40), Some(("a", 4)));
    }

    #[test]
    fn insertion_order_and_pop_front_while() {
        let mut map: BoundedMap<&str, u32> = BoundedMap::new(10);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            map.insert(key, u32::try_from(i).unwrap_or_default(), ());
        }
        if let Some(a) = map.get_mut("a") {
            *a = 7;
        }
        map.pop_front_while(|v| *v == 7);
        assert_eq!(map.get("a"), None);
        map.pop_front_while(|v| *v == 2);
        assert_eq!(map.len(), 2);
        assert_eq!(map.remove("b"), Some(1));
        assert_eq!(map.capacity(), 10);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut map: BoundedMap<u8, u8> = BoundedMap::new(0);
        assert_eq!(map.insert(1, 1, ()), None);
        assert_eq!(map.len(), 0);
    }
}
