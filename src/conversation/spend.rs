//! What a conversation has used and cost so far.

use super::Conversation;
use crate::model::{Cost, Response, Usage};

/// The running totals of a conversation's replies.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Spend {
    /// Token counts of every reply, summed.
    usage: Usage,
    /// Cost of the priced replies, summed.
    cost: Cost,
    /// Replies with usage that the price table could not price.
    unpriced: u32,
}

impl Spend {
    /// Counts a reply to a request for `model`.
    pub(super) fn count(&mut self, model: &str, response: &Response) {
        self.count_priced(response.usage, response.cost(model));
    }

    /// Counts replies that used `usage` and cost `cost` (`None`: not
    /// priced), summed over their attempts.
    pub(super) fn count_priced(&mut self, usage: Option<Usage>, cost: Option<Cost>) {
        let Some(usage) = usage else {
            return;
        };
        self.usage = self.usage + usage;
        match cost {
            Some(cost) => self.cost += cost,
            None => self.unpriced += 1,
        }
    }
}

impl Conversation {
    /// The token counts of every reply this conversation received (tool
    /// rounds and extraction re-asks included), summed.
    pub fn usage(&self) -> Usage {
        self.spend.usage
    }

    /// What this conversation's replies cost, summed, each at the service
    /// tier it was served with, from the catalogue's price table. `None`
    /// when a reply could not be priced (a model or tier the table does not
    /// price): a total that leaves calls out would mislead.
    ///
    /// ```
    /// use bedrock_converse::Conversation;
    /// let chat = Conversation::new("amazon.nova-lite-v1:0");
    /// assert_eq!(chat.cost().unwrap().total(), 0.0); // nothing sent yet
    /// ```
    pub fn cost(&self) -> Option<Cost> {
        (self.spend.unpriced == 0).then_some(self.spend.cost)
    }
}
