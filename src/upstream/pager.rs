//! The one inventory pager both protocols use: it asks for page 1, 2, …
//! only as the caller's stream is polled, holds at most one page, and ends
//! after the last page or the first error. It decides what "last" means
//! from whatever the warehouse says (a flag, a page count, a short or an
//! overlong page), and it stops a warehouse that answers a page with the
//! rows of the one before (it ignores paging) or never stops.

use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, stream};

use super::{UpstreamError, UpstreamErrorKind};
use crate::domain::{CallContext, InventoryItem, InventoryPage, InventoryQuery, InventoryStream};

/// The most pages one stream asks for, against a warehouse that never says
/// "last page".
const MAX_PAGES: u32 = 100_000;

/// One page as the protocol read it, before the pager decides what comes next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PageAnswer {
    pub items: Vec<InventoryItem>,
    /// `isLastPage`, when the warehouse says.
    pub is_last_page: Option<bool>,
    /// `currentPage`, when the warehouse says.
    pub current_page: Option<i64>,
    /// `pageCount`, when the warehouse says.
    pub page_count: Option<i64>,
}

/// One page to ask for: page `number` of `query`, narrowed to `skus`
/// (empty: every SKU).
#[derive(Debug, Clone, Copy)]
pub(super) struct Page<'a> {
    pub query: &'a InventoryQuery,
    pub skus: &'a [String],
    pub number: u32,
}

/// A warehouse that answers one inventory page at a time.
#[async_trait]
pub(super) trait PageSource: Send + Sync + 'static {
    async fn page(&self, ctx: &CallContext, page: Page<'_>) -> Result<PageAnswer, UpstreamError>;

    /// The pager's own failures, named like the source's.
    fn error(&self, kind: UpstreamErrorKind) -> UpstreamError;
}

/// Pages through `query`, once per SKU filter of `passes` in turn (qlink
/// takes all SKUs at once, Qianyi one per request), numbering the pages
/// across passes when there is more than one.
pub(super) fn pages<S: PageSource>(
    source: Arc<S>,
    ctx: CallContext,
    query: InventoryQuery,
    passes: Vec<Vec<String>>,
) -> InventoryStream {
    let pager = Pager {
        source,
        ctx,
        query,
        passes,
        pass: 0,
        page: 1,
        emitted: 0,
        previous: None,
    };
    stream::unfold(Some(pager), |state| async move {
        let mut pager = state?;
        match pager.next().await {
            Ok(page) => {
                let more = !page.is_last_page;
                Some((Ok(page), more.then_some(pager)))
            }
            // One error, then the stream ends.
            Err(err) => Some((Err(err), None)),
        }
    })
    .boxed()
}

struct Pager<S> {
    source: Arc<S>,
    ctx: CallContext,
    query: InventoryQuery,
    passes: Vec<Vec<String>>,
    /// The pass being paged (index into `passes`).
    pass: usize,
    /// The next upstream page of this pass to ask for.
    page: u32,
    /// Pages handed out so far.
    emitted: u32,
    /// What this pass's last page held.
    previous: Option<PageMark>,
}

/// A page's row count and first and last rows: pages of one listing never
/// share their first row, so an equal mark means the same page again.
#[derive(PartialEq, Eq)]
struct PageMark {
    rows: usize,
    first: InventoryItem,
    last: InventoryItem,
}

impl PageMark {
    fn of(items: &[InventoryItem]) -> Option<Self> {
        Some(Self {
            rows: items.len(),
            first: items.first()?.clone(),
            last: items.last()?.clone(),
        })
    }
}

impl<S: PageSource> Pager<S> {
    async fn next(&mut self) -> Result<InventoryPage, UpstreamError> {
        if self.emitted >= MAX_PAGES {
            return Err(self.source.error(UpstreamErrorKind::Malformed(format!(
                "the warehouse still reported more inventory after {MAX_PAGES} pages"
            ))));
        }
        let asked = Page {
            query: &self.query,
            skus: self.passes.get(self.pass).map_or(&[][..], Vec::as_slice),
            number: self.page,
        };
        let answer = self.source.page(&self.ctx, asked).await?;
        let mark = PageMark::of(&answer.items);
        if mark.is_some() && mark == self.previous {
            return Err(self.source.error(UpstreamErrorKind::Malformed(format!(
                "the warehouse answered page {} with the rows of page {}: it ignores paging",
                self.page,
                self.page - 1
            ))));
        }
        self.emitted += 1;

        let current_page = answer
            .current_page
            .filter(|page| *page > 0)
            .unwrap_or(i64::from(self.page));
        let page_count = answer.page_count.filter(|count| *count > 0).unwrap_or(0);
        // With neither a flag nor a count, a short page is the last, and so
        // is a long one: a warehouse that sends more rows than asked for
        // ignores paging and has sent everything (the qlink spec's example
        // answers 11 rows to pageSize 10).
        let pass_done = answer.is_last_page == Some(true)
            || (page_count > 0 && current_page >= page_count)
            || answer.items.is_empty()
            || (answer.is_last_page.is_none()
                && page_count == 0
                && answer.items.len() != self.query.page_size as usize);
        let several_passes = self.passes.len() > 1;
        let page = InventoryPage {
            page: if several_passes {
                self.emitted
            } else {
                u32::try_from(current_page).unwrap_or(self.page)
            },
            page_count: if several_passes {
                0
            } else {
                u32::try_from(page_count).unwrap_or(0)
            },
            is_last_page: pass_done && self.pass + 1 >= self.passes.len(),
            items: answer.items,
        };
        if pass_done {
            self.pass += 1;
            self.page = 1;
            self.previous = None;
        } else {
            self.page += 1;
            self.previous = mark;
        }
        Ok(page)
    }
}
