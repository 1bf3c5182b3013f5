"""The operations of the contract that the server does not implement yet (they answer 501 `not_implemented`).

This list only shrinks: implementing an operation means removing it here, and
`test_the_list_is_exactly_the_unimplemented_operations` fails until you do. Everything not listed is fuzzed by
schemathesis in test_schemathesis.py.
"""

NOT_IMPLEMENTED: frozenset[str] = frozenset(
    {
        # Releases and tracks (issue: releases and tracks)
        "createRelease",
        "listReleases",
        "getRelease",
        "updateReleaseDetails",
        "updateReleaseTracks",
        "updateReleaseArtwork",
        "updateReleaseDistribution",
        "submitRelease",
        "createTrack",
        "listTracks",
        "getTrack",
        "updateTrack",
        "uploadTrackAudio",
        "getTrackQcStatus",
        # Splits, earnings, payouts, smart links
        "createSplit",
        "listSplits",
        "getSplit",
        "listReleaseSplits",
        "listEarnings",
        "summarizeEarnings",
        "getBalance",
        "listPayouts",
        "getPayout",
        "requestPayout",
        "createSmartLink",
        "listSmartLinks",
        "getPublicSmartLink",
        "followSmartLink",
        "getSmartLink",
        "getSmartLinkStats",
        # Access (issue: access)
        "createApiKey",
        "listApiKeys",
        "getApiKey",
        "rotateApiKey",
        "revokeApiKey",
        "authorizeOAuth",
        "submitOAuthConsent",
        "createOAuthToken",
        "revokeOAuthToken",
        "introspectOAuthToken",
        "getOAuthMetadata",
        # Inbound provider webhooks
        "receiveStripeWebhook",
        "receiveWiseWebhook",
        "receiveDspSyncWebhook",
        "receiveMailgunWebhook",
        "receiveWhapiWebhook",
    }
)
