"""The GraphQL documents the bot sends; the API's schema.graphql is their contract."""

from __future__ import annotations

ME = """
query Me {
  me { id name role language timezone }
}
"""

LINK_TELEGRAM = """
mutation LinkTelegram($code: String!, $telegramUserId: Long!, $key: String!) {
  linkTelegram(code: $code, telegramUserId: $telegramUserId, idempotencyKey: $key) {
    __typename
    ... on TelegramLinked { staff { id name role language timezone } }
    ... on Problem { message }
  }
}
"""

_MATCH = "id name email phone stage"

FIND = f"""
query Find($search: String!, $first: Int!) {{
  customers(filter: {{search: $search}}, first: $first) {{
    __typename
    ... on CustomerConnection {{ edges {{ node {{ {_MATCH} }} }} }}
    ... on Problem {{ message }}
  }}
}}
"""

FIND_WITH_ID = f"""
query FindWithId($id: ID!, $search: String!, $first: Int!) {{
  byId: customer(id: $id) {{ __typename ... on Customer {{ {_MATCH} }} }}
  customers(filter: {{search: $search}}, first: $first) {{
    __typename
    ... on CustomerConnection {{ edges {{ node {{ {_MATCH} }} }} }}
    ... on Problem {{ message }}
  }}
}}
"""

CARD = """
query Card($id: ID!, $language: String) {
  customer(id: $id) {
    __typename
    ... on Customer {
      id name email phone stage stageSince orderCount netRevenueMinor lastOrderAt
      owner { name }
      score {
        rfmSegment pAlive predictedClvMinor churnRisk nextOrderDate reasons(language: $language)
      }
      orders(first: 3) { orderedAt kind totalMinor }
      consents { channel granted }
    }
    ... on Problem { message }
  }
}
"""

HISTORY = """
query History($id: ID!) {
  customer(id: $id) {
    __typename
    ... on Customer {
      id name
      stageHistory { fromStage toStage reason changedAt }
      orders(first: 10) { orderedAt kind totalMinor }
    }
    ... on Problem { message }
  }
}
"""

CROSS_SELL = """
query CrossSell($id: ID!) {
  customer(id: $id) {
    __typename
    ... on Customer { id name stage score { nextOrderDate } }
    ... on Problem { message }
  }
  crossSell(customerId: $id) { name sku score dueInDays text }
}
"""

REACTIVATION_PLAN = """
query ReactivationPlan($id: ID!, $language: String) {
  customer(id: $id) {
    __typename
    ... on Customer {
      id name stage lastOrderAt
      score { pAlive churnRisk predictedClvMinor reasons(language: $language) }
      consents { channel granted }
    }
    ... on Problem { message }
  }
  offers(kind: "reactivation") { id name description refereeBenefit validDays }
}
"""

REACTIVATION_CANDIDATES = """
query Reactivation($first: Int!, $offset: Int!, $language: String) {
  reactivationCandidates(first: $first, offset: $offset, mine: true) {
    expectedValueMinor reasons(language: $language)
    customer { id name stage owner { id } }
    suggestedOffer { name }
  }
}
"""

SUGGESTIONS = """
query MySuggestions($first: Int!, $offset: Int!, $language: String) {
  mySuggestions(first: $first, offset: $offset) {
    id type reason(language: $language) priority expiresAt channel
    customer { id name stage }
    offer { name }
  }
}
"""

ACCEPT_SUGGESTION = """
mutation Accept($id: ID!, $key: String!) {
  acceptSuggestion(id: $id, idempotencyKey: $key) {
    __typename
    ... on Problem { message }
  }
}
"""

DISMISS_SUGGESTION = """
mutation Dismiss($id: ID!, $key: String!) {
  dismissSuggestion(id: $id, idempotencyKey: $key) {
    __typename
    ... on Problem { message }
  }
}
"""

REFERRAL_DIALOG = """
query ReferralDialog($id: ID!) {
  customer(id: $id) {
    __typename
    ... on Customer { id name stage consents { channel granted } }
    ... on Problem { message }
  }
  offers(kind: "referral") {
    id name description referrerRewardMinor refereeBenefit validDays
  }
}
"""

TRIGGER_REFERRAL = """
mutation Refer($customerId: ID!, $offerId: ID!, $channel: String!, $key: String!) {
  triggerReferralOffer(
    customerId: $customerId, offerId: $offerId, channel: $channel, idempotencyKey: $key
  ) {
    __typename
    ... on ReferralOfferSent {
      created deliverAt
      referral { code shareUrl expiresAt }
    }
    ... on ReferralNotEligible { message code retryAt }
    ... on ConsentMissing { message channel code }
    ... on Problem { message }
  }
}
"""

FUNNEL = """
query Funnel($from: DateTime!) {
  lifecycleFunnel(from: $from) {
    atEnd { stage customers }
    flows { fromStage toStage customers }
  }
}
"""

ENQUEUE_SCORING = """
mutation Score($key: String!) {
  enqueueScoringRun(idempotencyKey: $key) {
    __typename
    ... on ScoringRunQueued { run { id status } }
    ... on Problem { message }
  }
}
"""

SCORING_RUN = """
query Run($id: ID!) {
  scoringRun(id: $id) { id status shardCount shardsDone error }
}
"""

STATUS = """
query Status {
  scoringRuns(first: 5) { id status asOf shardCount shardsDone finishedAt error }
  systemStatus {
    queues { name queued started failed scheduled }
    outbox { pending sending dead }
  }
}
"""
