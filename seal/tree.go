package seal

import "golang.org/x/mod/sumdb/tlog"

// frontier is the right edge of an RFC 6962 Merkle tree: the roots of the
// complete subtrees that together hold every leaf appended so far, largest
// (leftmost) first. It is all a writer needs to append a leaf and compute the
// tree's root: at most log₂ n + 1 hashes, whatever the size of the tree.
type frontier struct {
	size  int64
	nodes []node
}

// node is the root of a complete subtree of 2^level leaves.
type node struct {
	level int
	hash  tlog.Hash
}

// push appends the leaf hash h (tlog.RecordHash of a line).
func (f *frontier) push(h tlog.Hash) {
	n := node{0, h}
	for len(f.nodes) > 0 && f.nodes[len(f.nodes)-1].level == n.level {
		left := f.nodes[len(f.nodes)-1]
		f.nodes = f.nodes[:len(f.nodes)-1]
		n = node{n.level + 1, tlog.NodeHash(left.hash, n.hash)}
	}
	f.nodes = append(f.nodes, n)
	f.size++
}

// root returns the tree's root hash, tlog.TreeHash of the same leaves.
func (f *frontier) root() tlog.Hash {
	if len(f.nodes) == 0 {
		h, _ := tlog.TreeHash(0, nil) // the hash of the empty tree
		return h
	}
	h := f.nodes[len(f.nodes)-1].hash
	for i := len(f.nodes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.nodes[i].hash, h)
	}
	return h
}

// fullTree holds every stored hash of a tree (tlog's layout), for verifying:
// it computes roots at any size and the proofs between them.
type fullTree struct {
	leaves []tlog.Hash
	stored []tlog.Hash
}

// add appends the leaf hash h.
func (t *fullTree) add(h tlog.Hash) {
	hs, err := tlog.StoredHashesForRecordHash(int64(len(t.leaves)), h, t)
	if err != nil {
		panic("seal: stored hashes of an in-memory tree: " + err.Error()) // cannot happen: every index is stored
	}
	t.leaves = append(t.leaves, h)
	t.stored = append(t.stored, hs...)
}

// ReadHashes implements tlog.HashReader.
func (t *fullTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = t.stored[x]
	}
	return out, nil
}

// root returns the root hash of the tree's first n leaves.
func (t *fullTree) root(n int64) tlog.Hash {
	h, err := tlog.TreeHash(n, t)
	if err != nil {
		panic("seal: tree hash of an in-memory tree: " + err.Error())
	}
	return h
}
