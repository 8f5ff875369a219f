// Package flowstore keeps raw flow records (flow.Flow) in compressed, time-partitioned
// segment files, as nfcapd keeps a file per five minutes, and removes the oldest by
// age and by total size. It knows nothing of sockets, exporters or queries.
package flowstore
